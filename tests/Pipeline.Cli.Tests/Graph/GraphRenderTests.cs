using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Cli.Graph;
using Pipeline.Core.Graph;
using Pipeline.Functions.ServiceGraph;

namespace Pipeline.Cli.Tests.Graph;

/// <summary>
/// The SVG in a real browser: headless Chromium (installed by tests/setup) loads it, and a page
/// that embeds it inline reports each node's rendered text box. Output under artifacts/graph-render/.
/// </summary>
public sealed class GraphRenderTests : IClassFixture<GraphTestArchive>
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly TimeSpan BrowserTimeout = TimeSpan.FromSeconds(90);
    private readonly GraphTestArchive _archive;

    public GraphRenderTests(GraphTestArchive archive)
    {
        _archive = archive;
    }

    [Fact]
    public async Task Svg_InHeadlessChromium_ParsesAndRendersEveryNodeName()
    {
        File.Exists(Chromium).Should().BeTrue("tests/setup installs chromium for this test");
        var document = await BuildWithDiffAsync();
        var svg = GraphSvg.Render(document);
        var dir = Directory.CreateTempSubdirectory("pipeline-graph-render-");
        try
        {
            var svgPath = Path.Combine(dir.FullName, "graph.svg");
            await File.WriteAllTextAsync(svgPath, svg, TestContext.Current.CancellationToken);
            var names = document.Services.Select(s => s.Name).ToList();
            var htmlPath = Path.Combine(dir.FullName, "graph.html");
            await File.WriteAllTextAsync(htmlPath, Page(svg, names), TestContext.Current.CancellationToken);

            // 1. The SVG file alone: an XML error would show as a <parsererror> element.
            var direct = await RunChromiumAsync(dir.FullName, "--dump-dom", new Uri(svgPath).AbsoluteUri);
            direct.Should().NotContain("parsererror").And.Contain("<svg");

            // 2. Inline in a page: a script measures each node name's rendered box.
            var dom = await RunChromiumAsync(dir.FullName, "--dump-dom", new Uri(htmlPath).AbsoluteUri);
            var open = dom.IndexOf("<pre id=\"result\">", StringComparison.Ordinal);
            open.Should().BeGreaterThan(0);
            var result = dom[open..dom.IndexOf("</pre>", open, StringComparison.Ordinal)];
            foreach (var name in names)
            {
                result.Should().Contain($"rendered:{System.Net.WebUtility.HtmlEncode(name)}\n", $"node {name} should be drawn with a non-empty text box");
            }

            result.Should().NotContain("missing:");

            // 3. A screenshot for people (kept under artifacts/ for a look).
            var png = Path.Combine(dir.FullName, "graph.png");
            await RunChromiumAsync(dir.FullName, $"--screenshot={png}", new Uri(svgPath).AbsoluteUri);
            new FileInfo(png).Length.Should().BeGreaterThan(1000);
            var artifacts = Path.Combine(Pipeline.Testing.RepoPaths.Root, "artifacts", "graph-render");
            Directory.CreateDirectory(artifacts);
            File.Copy(png, Path.Combine(artifacts, "graph.png"), overwrite: true);
            File.Copy(svgPath, Path.Combine(artifacts, "graph.svg"), overwrite: true);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>The test archive's graph, diffed against a made-up previous window so new nodes, removals and regressions show.</summary>
    private async Task<GraphDocument> BuildWithDiffAsync()
    {
        var store = new DirectoryObjectStore(_archive.Root);
        var job = new ServiceGraphJob(new MemoryWrites(store), new ServiceGraphOptions { ArchiveBucket = "local" }, null, NullLogger.Instance);
        var current = (await job.RunAsync(GraphTestArchive.WindowStart, GraphTestArchive.WindowEnd, GraphEngine.Stream, TestContext.Current.CancellationToken)).Document;
        var previous = current with
        {
            Services = [.. current.Services.Where(s => s.Name != "db.internal:5432/orders").Select(Faster),
                new ServiceDocument { ReferenceId = 99, Name = "legacy <billing> & co", Names = ["legacy"], Type = "service", Root = false, Depth = 3, Edges = [] }],
        };
        return current with { Diff = GraphDiff.Compare(previous, current, "graphs/previous.json") };

        static ServiceDocument Faster(ServiceDocument s) => s with
        {
            Edges = [.. s.Edges.Select(e => e with { Percentiles = e.Percentiles with { P99 = e.Percentiles.P99 / 10 } })],
        };
    }

    private static string Page(string svg, IEnumerable<string> names)
    {
        var list = string.Join(",", names.Select(n => "\"" + n.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\""));
        var body = svg[svg.IndexOf("<svg", StringComparison.Ordinal)..];
        return $$"""
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>graph</title></head><body>
            {{body}}
            <pre id="result"></pre>
            <script>
            const names = [{{list}}];
            const texts = Array.from(document.querySelectorAll('svg text'));
            const out = [];
            for (const name of names) {
              const t = texts.find(e => e.textContent === name || (name.length > 28 && e.textContent.startsWith(name.slice(0, 27))));
              const box = t ? t.getBBox() : null;
              out.push((box && box.width > 0 && box.height > 0 ? 'rendered:' : 'missing:') + name);
            }
            document.getElementById('result').textContent = out.join('\n') + '\n';
            </script></body></html>
            """;
    }

    private static async Task<string> RunChromiumAsync(string workDir, string mode, string url)
    {
        var profile = Directory.CreateTempSubdirectory("pipeline-chromium-profile-");
        try
        {
            var start = new ProcessStartInfo(Chromium)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = workDir,
            };
            foreach (var arg in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                $"--user-data-dir={profile.FullName}", "--window-size=1200,800", mode, url,
            })
            {
                start.ArgumentList.Add(arg);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(BrowserTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium did not finish in {BrowserTimeout}: {await stderr}");
            }

            process.ExitCode.Should().Be(0, await stderr);
            return await stdout;
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    private sealed class MemoryWrites(Pipeline.Aws.Storage.IObjectStore inner) : Pipeline.Aws.Storage.IObjectStore
    {
        public Task PutAsync(string bucket, string key, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken = default) =>
            key.StartsWith("graphs/", StringComparison.Ordinal) ? Task.FromResult<byte[]?>(null) : inner.GetAsync(bucket, key, cancellationToken);

        public Task<IReadOnlyList<Pipeline.Aws.Storage.StoredObject>> ListAsync(string bucket, string prefix, int maxKeys = 10000, CancellationToken cancellationToken = default) =>
            inner.ListAsync(bucket, prefix, maxKeys, cancellationToken);
    }
}
