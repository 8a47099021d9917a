using System.Net;
using System.Text.Json;

namespace Pipeline.LocalAws.Relay;

/// <summary>
/// The addresses a started relay reports in its <c>"relay ready"</c> log line
/// (<c>{"message":"relay ready","udp":…,"tcp":…,"metrics":…,"otlp_http":…,"otlp_grpc":…}</c>): the
/// one reader of that line for <c>pipeline up</c> and the tests, which start the relay on port 0
/// and learn the bound ports from it. A listener that is off is absent or null.
/// </summary>
public sealed record RelayReadyLine(IPEndPoint Udp, IPEndPoint Tcp, IPEndPoint? Metrics, IPEndPoint? OtlpHttp, IPEndPoint? OtlpGrpc)
{
    /// <summary>The message of the line (JsonLogWriter's <c>message</c> field).</summary>
    public const string Message = "relay ready";

    /// <summary>Reads <paramref name="line"/> when it is the relay's ready line; false for any other line, JSON or not.</summary>
    public static bool TryParse(string? line, out RelayReadyLine ready)
    {
        ready = null!;
        if (line is null || !line.Contains("\"" + Message + "\"", StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            if (Address(root, "udp") is not { } udp || Address(root, "tcp") is not { } tcp)
            {
                return false;
            }

            ready = new RelayReadyLine(udp, tcp, Address(root, "metrics"), Address(root, "otlp_http"), Address(root, "otlp_grpc"));
            return true;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            return false;
        }
    }

    private static IPEndPoint? Address(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? IPEndPoint.Parse(text)
            : null;
}
