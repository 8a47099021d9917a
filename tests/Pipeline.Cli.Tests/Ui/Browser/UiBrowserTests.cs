using Microsoft.Playwright;
using Pipeline.Testing.Builders;
using static Microsoft.Playwright.Assertions;

namespace Pipeline.Cli.Tests.Ui.Browser;

/// <summary>
/// `pipeline ui` in a real browser (Debian's Chromium through Playwright): search finds the faulted
/// demo trace, the waterfall nests and times every span, the map links to traces, deep links
/// reproduce a search, reports show their chart, and hostile strings stay text. Each test saves a
/// screenshot of the page it checked.
/// </summary>
public sealed class UiBrowserTests : IClassFixture<UiServerFixture>, IClassFixture<BrowserFixture>
{
    private readonly UiServerFixture _ui;
    private readonly BrowserFixture _browser;

    public UiBrowserTests(UiServerFixture ui, BrowserFixture browser)
    {
        _ui = ui;
        _browser = browser;
    }

    [Fact]
    public async Task Search_FaultFilter_FindsTheFaultedDemoTraceAndOpensIt()
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(_ui.Url("/search").ToString());

        await page.Locator("input[name=fault]").CheckAsync();
        await page.Locator("#search-button").ClickAsync();

        var row = page.Locator($"tr[data-trace-id=\"{UiTestArchive.Faulted}\"]");
        await Expect(row).ToBeVisibleAsync();
        await Expect(row).ToContainTextAsync("300.0 ms");
        await Expect(row.Locator(".flag.fault")).ToBeVisibleAsync();
        await Expect(page.Locator("#match-count")).ToHaveTextAsync("2");
        await Expect(page.Locator("#histogram rect")).Not.ToHaveCountAsync(0);
        page.Url.Should().Contain("fault=1");
        await Screenshot(page, "search");

        await row.Locator("a").ClickAsync();
        await Expect(page.Locator("#trace-id")).ToHaveTextAsync(UiTestArchive.Faulted);
    }

    [Fact]
    public async Task Trace_Waterfall_NestsEverySpanWithItsDurationAndExpandsDetails()
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(_ui.Url("/trace/" + UiTestArchive.Faulted).ToString());

        var rows = page.Locator("details.row");
        await Expect(rows).ToHaveCountAsync(DemoTrace.Spans.Count);
        var paddings = new List<double>();
        for (var i = 0; i < DemoTrace.Spans.Count; i++)
        {
            var (id, depth, offset, duration) = DemoTrace.Spans[i];
            var row = rows.Nth(i);
            (await row.GetAttributeAsync("data-span-id")).Should().Be(id);
            (await row.GetAttributeAsync("data-depth")).Should().Be(depth.ToString(System.Globalization.CultureInfo.InvariantCulture));
            double.Parse((await row.GetAttributeAsync("data-duration-ms"))!, System.Globalization.CultureInfo.InvariantCulture).Should().BeApproximately(duration, 0.01);
            double.Parse((await row.GetAttributeAsync("data-offset-ms"))!, System.Globalization.CultureInfo.InvariantCulture).Should().BeApproximately(offset, 0.01);
            paddings.Add(double.Parse((await row.Locator(".nm").EvaluateAsync<string>("e => getComputedStyle(e).paddingLeft")).Replace("px", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture));
        }

        // Deeper spans are indented further: the stylesheet applied (under the CSP) and the nesting shows.
        paddings[1].Should().BeGreaterThan(paddings[0]);
        paddings[2].Should().BeGreaterThan(paddings[1]);
        paddings[3].Should().BeGreaterThan(paddings[2]);
        paddings[4].Should().Be(paddings[1]);
        await Expect(page.Locator("rect.c")).Not.ToHaveCountAsync(0);
        await Expect(page.Locator(".trace-map g.node")).ToHaveCountAsync(2);

        var serviceB = page.Locator($"#span-{DemoTrace.SegmentB}");
        await serviceB.Locator(":scope > summary").ClickAsync();
        await Expect(serviceB.Locator(".exceptions")).ToContainTextAsync("payment table unavailable");
        await Expect(serviceB.Locator("table.http")).ToContainTextAsync("500");
        await Screenshot(page, "trace");
    }

    [Fact]
    public async Task Map_NodeAndEdge_AreLinksToTheTracesThroughThem()
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(_ui.Url("/map?since=1h").ToString());
        await Expect(page.Locator("#graph g.node[data-service=\"payments\"]")).ToBeVisibleAsync();
        await Expect(page.Locator("#diff")).ToContainTextAsync("new service payments");
        await Screenshot(page, "map");

        await page.Locator("#graph g.node[data-service=\"payments\"]").ClickAsync();
        await Expect(page.Locator($"tr[data-trace-id=\"{UiTestArchive.Faulted}\"]")).ToBeVisibleAsync();
        await Expect(page.Locator("#match-count")).ToHaveTextAsync("1");

        await page.GotoAsync(_ui.Url("/map?since=1h").ToString());
        // The edge's label sits on its curve; the whole edge is the link.
        await page.Locator("#graph g.edge[data-from=\"service-a\"][data-to=\"service-b\"] text").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("service=service-a&service=service-b"));
        await Expect(page.Locator("#match-count")).ToHaveTextAsync((UiTestArchive.OkTraces + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task DeepLink_ReproducesTheSearchInAFreshBrowser()
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(_ui.Url("/search?since=1h&service=service-a&min_ms=90&max_ms=210").ToString());
        await Expect(page.Locator("#results tr[data-trace-id]")).ToHaveCountAsync(6);
        var shown = await page.Locator("#results tr[data-trace-id]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.traceId)");
        var link = await page.Locator("#permalink").GetAttributeAsync("href");

        var fresh = await _browser.NewPageAsync();
        await fresh.GotoAsync(new Uri(_ui.Address, link!).ToString());

        await Expect(fresh.Locator("#results tr[data-trace-id]")).ToHaveCountAsync(6);
        (await fresh.Locator("#results tr[data-trace-id]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.traceId)")).Should().Equal(shown);
        await Expect(fresh.Locator("input[name=min_ms]")).ToHaveValueAsync("90");
        await Expect(fresh.Locator("input[name=service]").First).ToHaveValueAsync("service-a");
    }

    [Fact]
    public async Task Reports_PageAndStoredCopy_ShowTheirChart()
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(_ui.Url("/reports").ToString());
        var chart = page.Locator("img.chart");
        await Expect(chart).ToBeVisibleAsync();
        (await chart.EvaluateAsync<int>("img => img.complete ? img.naturalWidth : -1")).Should().BePositive();
        await Screenshot(page, "reports");

        // The stored report.html opened on its own (as from S3 or the mirror): its chart is inline, not a cid: reference.
        var stored = Path.Combine(_ui.Archive.Root, Pipeline.Functions.CostReport.ReportKeys.Html(UiTestArchive.ReportDay));
        var file = await _browser.NewPageAsync();
        await file.GotoAsync(new Uri(stored).AbsoluteUri);
        var image = file.Locator("img").First;
        await Expect(image).ToBeVisibleAsync();
        await file.WaitForFunctionAsync("() => document.images[0].complete");
        (await image.EvaluateAsync<int>("img => img.naturalWidth")).Should().BePositive();

        await file.GotoAsync(_ui.Url("/reports/2026-11-24/report.html").ToString());
        await file.WaitForFunctionAsync("() => document.images.length > 0 && document.images[0].complete");
        (await file.Locator("img").First.EvaluateAsync<int>("img => img.naturalWidth")).Should().BePositive("the sandboxed page allows data: images");
    }

    [Fact]
    public async Task Quarantine_ShowsReasonsWithSamples()
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(_ui.Url("/quarantine").ToString());

        await Expect(page.Locator("#reasons tr")).ToHaveCountAsync(UiTestArchive.QuarantineReasons.Distinct().Count() + 1);
        await Expect(page.Locator("#reason-invalid_json")).ToBeVisibleAsync();
        await Expect(page.Locator("pre.sample").First).ToBeVisibleAsync();
        await Screenshot(page, "quarantine");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HostileTrace_RunsNothing_EvenWithTheCspBypassed(bool bypassCsp)
    {
        // With the CSP bypassed, escaping alone must hold; with it, both layers do.
        var page = await _browser.NewPageAsync(bypassCsp);
        var dialogs = 0;
        page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };
        await page.GotoAsync(_ui.Url("/trace/" + UiTestArchive.Hostile).ToString());
        await Expect(page.Locator("details.row")).ToHaveCountAsync(2);
        await page.Locator("details.row summary").First.ClickAsync();
        await page.Locator("details.raw summary").First.ClickAsync();

        (await page.EvaluateAsync<bool>("() => window.__pwned === undefined")).Should().BeTrue();
        (await page.Locator("script").CountAsync()).Should().Be(0);
        (await page.Locator("img").CountAsync()).Should().Be(0);
        (await page.Locator("main svg[onload]").CountAsync()).Should().Be(0);
        await Expect(page.Locator("details.row .nm").First).ToContainTextAsync("<script>window.__pwned=1</script>");
        dialogs.Should().Be(0);

        await page.GotoAsync(_ui.Url("/search?since=1h&url=" + Uri.EscapeDataString(UiTestArchive.Payloads[1])).ToString());
        await Expect(page.Locator("input[name=url]")).ToHaveValueAsync(UiTestArchive.Payloads[1]);
        (await page.EvaluateAsync<bool>("() => window.__pwned === undefined")).Should().BeTrue();
        if (!bypassCsp)
        {
            await Screenshot(page, "hostile-search");
        }
    }

    private static async Task Screenshot(IPage page, string name)
    {
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotDir, name + ".png"), FullPage = true });
        // The copy for docs/screenshots: the first screen as a JPEG, small enough to commit.
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotDir, "docs", name + ".jpg"), Type = ScreenshotType.Jpeg, Quality = 70 });
    }
}
