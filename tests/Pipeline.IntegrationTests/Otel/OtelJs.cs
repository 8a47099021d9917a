using System.Diagnostics;
using System.Text.Json;
using Pipeline.Testing;

namespace Pipeline.IntegrationTests.Otel;

/// <summary>A span the OTel JS SDK made, as tests/otel-js/export.js prints it.</summary>
internal sealed record ExportedSpan(string TraceId, string SpanId, string? ParentSpanId, string Name, int Kind);

/// <summary>Runs tests/otel-js/export.js (the real OpenTelemetry JS SDK) against an OTLP/HTTP endpoint.</summary>
internal static class OtelJs
{
    public static string Directory => Path.Combine(RepoPaths.Root, "tests", "otel-js");

    /// <summary>Exports and returns the spans the SDK made; fails unless every export call succeeded.</summary>
    public static async Task<List<ExportedSpan>> ExportAsync(string endpoint, string protocol, string compression, params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(endpoint, protocol, compression, TimeSpan.FromSeconds(90), args);
        code.Should().Be(0, $"every export succeeds ({protocol}, {compression})\n{stdout}\n{stderr}");
        return Spans(stdout);
    }

    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string endpoint, string protocol, string compression, TimeSpan timeout, params string[] args)
    {
        File.Exists(Path.Combine(Directory, "node_modules", ".package-lock.json")).Should().BeTrue("tests/setup installs tests/otel-js (npm ci); run it first");
        var start = new ProcessStartInfo("node") { WorkingDirectory = Directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("export.js");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint;
        start.Environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol;
        start.Environment["OTEL_EXPORTER_OTLP_COMPRESSION"] = compression;
        start.Environment["OTEL_EXPORTER_OTLP_TIMEOUT"] = "30000";
        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = node.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await node.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            throw;
        }

        return (node.ExitCode, await stdout, await stderr);
    }

    public static List<ExportedSpan> Spans(string stdout)
    {
        var spans = new List<ExportedSpan>();
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.TryGetProperty("span", out var s))
            {
                spans.Add(new ExportedSpan(
                    s.GetProperty("traceId").GetString()!,
                    s.GetProperty("spanId").GetString()!,
                    s.GetProperty("parentSpanId").GetString(),
                    s.GetProperty("name").GetString()!,
                    s.GetProperty("kind").GetInt32()));
            }
        }

        return spans;
    }

    /// <summary>The outcome line: each export call's result code (0 = success) and span count.</summary>
    public static List<(int Code, int Spans)> Exports(string stdout)
    {
        var last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
        using var doc = JsonDocument.Parse(last);
        return [.. doc.RootElement.GetProperty("exports").EnumerateArray().Select(e => (e.GetProperty("code").GetInt32(), e.GetProperty("spans").GetInt32()))];
    }
}
