using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.Cli.Ui;
using Pipeline.Testing.Builders;

namespace Pipeline.Cli.Tests.Ui;

/// <summary>Every endpoint of `pipeline ui` over HTTP: status, content type, security headers, the data, and what it refuses.</summary>
public sealed partial class UiApiTests : IClassFixture<UiServerFixture>
{
    private readonly UiServerFixture _ui;

    public UiApiTests(UiServerFixture ui)
    {
        _ui = ui;
    }

    [Fact]
    public async Task Server_ListensOnLoopbackOnly()
    {
        _ui.Address.Host.Should().Be("127.0.0.1");
        var listeners = System.Net.NetworkInformation.IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpListeners();
        listeners.Where(l => l.Port == _ui.Address.Port).Should().OnlyContain(l => IPAddress.IsLoopback(l.Address));
        (await Get("/search")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("/search")]
    [InlineData("/trace/{faulted}")]
    [InlineData("/map")]
    [InlineData("/reports")]
    [InlineData("/quarantine")]
    [InlineData("/api/search")]
    [InlineData("/api/trace/{faulted}")]
    [InlineData("/api/map")]
    [InlineData("/api/reports")]
    [InlineData("/api/quarantine")]
    [InlineData("/assets/app.css")]
    public async Task Endpoint_Get_AnswersWithTheStrictPolicy(string path)
    {
        using var response = await Get(path.Replace("{faulted}", UiTestArchive.Faulted, StringComparison.Ordinal));

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        response.Headers.GetValues("Content-Security-Policy").Single().Should().Be(UiServer.ContentSecurityPolicy);
        response.Headers.GetValues("X-Content-Type-Options").Single().Should().Be("nosniff");
        response.Headers.GetValues("X-Frame-Options").Single().Should().Be("DENY");
        response.Headers.GetValues("Referrer-Policy").Single().Should().Be("no-referrer");
        response.Headers.Contains("Server").Should().BeFalse();
        response.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
        var type = response.Content.Headers.ContentType!.MediaType;
        type.Should().Be(path.StartsWith("/api/", StringComparison.Ordinal) ? "application/json" : path.EndsWith(".css", StringComparison.Ordinal) ? "text/css" : "text/html");
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    [InlineData("OPTIONS")]
    public async Task Endpoint_AnyWriteMethod_Is405(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), _ui.Url("/search")) { Content = new StringContent("x") };

        using var response = await _ui.Http.SendAsync(request, TestContext.Current.CancellationToken);

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.Allow.Should().BeEquivalentTo("GET", "HEAD");
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("127.0.0.1.nip.io")]
    [InlineData("localhost:1")]
    public async Task Endpoint_ForeignHostHeader_IsRefused(string host)
    {
        // DNS rebinding: a page on another origin whose name resolves to 127.0.0.1.
        using var request = new HttpRequestMessage(HttpMethod.Get, _ui.Url("/api/search"));
        request.Headers.Host = host;

        using var response = await _ui.Http.SendAsync(request, TestContext.Current.CancellationToken);

        response.StatusCode.Should().Be(HttpStatusCode.MisdirectedRequest);
    }

    [Fact]
    public async Task Root_RedirectsToSearch()
    {
        using var response = await Get("/");

        response.StatusCode.Should().Be(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().Should().Be("/search");
    }

    [Fact]
    public async Task SearchApi_Fault_FindsTheFaultedAndTheHostileTrace()
    {
        var json = await Json("/api/search?since=1h&fault=1");

        json.GetProperty("matches").GetInt64().Should().Be(2);
        json.GetProperty("traces").EnumerateArray().Select(t => t.GetProperty("trace_id").GetString()).Should().BeEquivalentTo(UiTestArchive.Faulted, UiTestArchive.Hostile);
        var faulted = json.GetProperty("traces").EnumerateArray().Single(t => t.GetProperty("trace_id").GetString() == UiTestArchive.Faulted);
        faulted.GetProperty("duration_ms").GetDouble().Should().Be(300);
        faulted.GetProperty("root_service").GetString().Should().Be("service-a");
        faulted.GetProperty("root_status").GetInt32().Should().Be(500);
        faulted.GetProperty("segments").GetInt64().Should().Be(3);
    }

    [Theory]
    [InlineData("since=1h", UiTestArchive.OkTraces + 3)]
    [InlineData("since=2h", UiTestArchive.OkTraces + 3 + 5)]
    [InlineData("since=1h&service=service-b&service=DynamoDB", 1)]
    [InlineData("since=1h&service=service-b&service=payments", 1)]
    [InlineData("since=1h&service=service-a&service=service-b", UiTestArchive.OkTraces + 1)]
    [InlineData("since=1h&min_ms=90&max_ms=210", 6)]
    [InlineData("since=1h&throttle=1", 1)]
    [InlineData("since=1h&method=post", 1)]
    [InlineData("since=1h&status=429", 1)]
    [InlineData("since=1h&url=%2Fcheckout", 1)]
    [InlineData("since=1h&annotation=customer%3Dalice", 4)]
    [InlineData("from=2026-11-25T10:00:00Z&to=2026-11-25T11:00:00Z", 5)]
    public async Task SearchApi_Filters_CountTheMatchingTraces(string query, int matches)
    {
        var json = await Json("/api/search?" + query);

        json.GetProperty("matches").GetInt64().Should().Be(matches);
        json.GetProperty("traces").GetArrayLength().Should().Be(matches);
        json.GetProperty("histogram").EnumerateArray().Sum(b => b.GetProperty("traces").GetInt64()).Should().Be(matches);
    }

    [Theory]
    [InlineData("since=1y", "since")]
    [InlineData("from=yesterday", "from")]
    [InlineData("status=999", "status")]
    [InlineData("method=G%20T", "method")]
    [InlineData("annotation=bad%20key%3Dx", "annotation")]
    [InlineData("min_ms=-1", "min_ms")]
    [InlineData("limit=100000", "limit")]
    [InlineData("from=2026-11-01T00:00:00Z&to=2026-11-25T00:00:00Z", "from/to")]
    public async Task SearchApi_BadParameter_Is400NamingIt(string query, string parameter)
    {
        using var response = await Get("/api/search?" + query);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        json.RootElement.GetProperty("errors").EnumerateArray().Should().Contain(e => e.GetString()!.StartsWith(parameter + ":", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SearchApi_SqlInLiterals_IsData()
    {
        var json = await Json("/api/search?since=1h&service=" + Uri.EscapeDataString("x' OR '1'='1") + "&url=" + Uri.EscapeDataString("') OR true --"));

        json.GetProperty("matches").GetInt64().Should().Be(0);
    }

    [Fact]
    public async Task SearchPage_TraceIdBox_RedirectsToTheTrace()
    {
        using var response = await Get("/search?trace=" + UiTestArchive.Faulted.ToUpperInvariant());

        response.StatusCode.Should().Be(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().Should().Be("/trace/" + UiTestArchive.Faulted);
    }

    [Fact]
    public async Task SearchPage_Permalink_ReproducesTheSearchWithAFixedWindow()
    {
        var page = await Text("/search?since=1h&fault=1&service=service-b");

        var link = WebUtility.HtmlDecode(Permalink().Match(page).Groups[1].Value);
        link.Should().Be("/search?from=2026-11-25T11%3A00%3A00Z&to=2026-11-25T12%3A00%3A00Z&service=service-b&fault=1");
        var again = await Text(link);
        Rows().Matches(again).Select(m => m.Groups[1].Value).Should().Equal(UiTestArchive.Faulted);
    }

    [Fact]
    public async Task TraceApi_Faulted_GivesEverySpanWithDocuments()
    {
        var json = await Json("/api/trace/" + UiTestArchive.Faulted);

        json.GetProperty("spans").EnumerateArray().Select(s => (s.GetProperty("id").GetString()!, s.GetProperty("depth").GetInt32(), s.GetProperty("duration_ms").GetDouble()))
            .Should().Equal(DemoTrace.Spans.Select(s => (s.Id, s.Depth, s.DurationMs)));
        json.GetProperty("read").GetProperty("hours").EnumerateArray().Select(h => h.GetString()).Should().Equal("2026-11-25T11");
    }

    [Theory]
    [InlineData("/api/trace/1-nothex", HttpStatusCode.BadRequest)]
    [InlineData("/trace/1-nothex", HttpStatusCode.BadRequest)]
    [InlineData("/trace/1-6925a000-0000000000000000000000ff", HttpStatusCode.NotFound)]
    [InlineData("/api/trace/1-6925a000-0000000000000000000000ff", HttpStatusCode.NotFound)]
    [InlineData("/no/such/page", HttpStatusCode.NotFound)]
    [InlineData("/reports/2026-13-01/chart.png", HttpStatusCode.NotFound)]
    [InlineData("/reports/..%2F..%2Fetc/report.html", HttpStatusCode.NotFound)]
    [InlineData("/map?since=3d", HttpStatusCode.BadRequest)]
    [InlineData("/api/quarantine?from=2026-01-01&to=2026-11-25", HttpStatusCode.BadRequest)]
    public async Task Endpoint_BadOrUnknown_AnswersWithTheRightStatus(string path, HttpStatusCode status)
    {
        using var response = await Get(path);

        response.StatusCode.Should().Be(status);
    }

    [Fact]
    public async Task TracePage_UppercaseId_RedirectsToTheCanonicalLink()
    {
        using var response = await Get("/trace/" + UiTestArchive.Faulted.ToUpperInvariant());

        response.StatusCode.Should().Be(HttpStatusCode.MovedPermanently);
        response.Headers.Location!.ToString().Should().Be("/trace/" + UiTestArchive.Faulted);
    }

    [Fact]
    public async Task MapApi_LastHour_HasTheCallsWithCountsPercentilesAndTheDiff()
    {
        var json = await Json("/api/map?since=1h");

        var names = json.GetProperty("Services").EnumerateArray().Select(s => s.GetProperty("Name").GetString()).ToList();
        // The DynamoDB call is a node named for its table, as X-Ray names it.
        names.Should().Contain(["service-a", "service-b", "payments"]);
        json.GetProperty("Diff").GetProperty("AddedNodes").EnumerateArray().Select(n => n.GetProperty("Name").GetString()).Should().Contain("payments")
            .And.NotContain("service-a", "service-a was already called in the hour before");
    }

    [Fact]
    public async Task ReportsApi_ListsTheStoredReportWithChartAndPage()
    {
        var json = await Json("/api/reports");

        var report = json.EnumerateArray().Single();
        report.GetProperty("day").GetString().Should().Be("2026-11-24");
        using var chart = await Get(report.GetProperty("chart").GetString()!);
        chart.Content.Headers.ContentType!.MediaType.Should().Be("image/png");
        (await chart.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)).Take(4).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G');
    }

    [Fact]
    public async Task StoredReportHtml_IsSandboxedAndCarriesItsChartInline()
    {
        using var response = await Get("/reports/2026-11-24/report.html");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("Content-Security-Policy").Single().Should().Be(UiServer.StoredReportPolicy).And.Contain("sandbox");
        (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Contain("<img src=\"data:image/png;base64,").And.NotContain("cid:");
    }

    [Fact]
    public async Task QuarantineApi_GroupsTheBadInputCorpusByReasonWithSamples()
    {
        var json = await Json("/api/quarantine");

        var reasons = json.EnumerateArray().ToDictionary(r => r.GetProperty("reason").GetString()!, r => r.GetProperty("documents").GetInt64());
        reasons.Should().BeEquivalentTo(UiTestArchive.QuarantineReasons.GroupBy(r => r).ToDictionary(g => g.Key, g => (long)g.Count()));
        json.EnumerateArray().Should().OnlyContain(r => r.GetProperty("samples").GetArrayLength() > 0 && r.GetProperty("samples").GetArrayLength() <= UiArchive.SamplesPerReason);
    }

    [Theory]
    [InlineData("/trace/{hostile}")]
    [InlineData("/search?since=1h")]
    [InlineData("/search?since=1h&fault=1&service={payload}&url={payload}")]
    [InlineData("/quarantine")]
    [InlineData("/map?since=1h")]
    public async Task Page_HostileStrings_ComeOutAsText(string path)
    {
        var payload = Uri.EscapeDataString(UiTestArchive.Payloads[0] + UiTestArchive.Payloads[1]);
        var page = await Text(path.Replace("{hostile}", UiTestArchive.Hostile, StringComparison.Ordinal).Replace("{payload}", payload, StringComparison.Ordinal));

        page.Should().NotContainAny("<script", "<img", "<svg onload", "\u001b", "\u202e", "\u0007", "href=\"javascript");
        Regex.Matches(Regex.Replace(page, "\"[^\"]*\"", "\"\""), "<[^>]*\\son\\w+=").Should().BeEmpty();
        if (path.StartsWith("/trace/", StringComparison.Ordinal))
        {
            page.Should().Contain("&lt;script&gt;window.__pwned=1&lt;/script&gt;").And.Contain("\\x1b]0;owned\\x07");
        }
    }

    [Fact]
    public async Task Page_NeverCarriesCredentials()
    {
        foreach (var path in new[] { "/search", "/trace/" + UiTestArchive.Faulted, "/map", "/reports", "/quarantine" })
        {
            (await Text(path)).Should().NotContainAny("AWS_SECRET", "SecretAccessKey", "aws_secret_access_key", "X-Amz-Security-Token", "AKIA");
        }
    }

    private Task<HttpResponseMessage> Get(string path) => _ui.Http.GetAsync(_ui.Url(path), TestContext.Current.CancellationToken);

    private async Task<string> Text(string path)
    {
        using var response = await Get(path);
        response.StatusCode.Should().Be(HttpStatusCode.OK, path);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    private async Task<JsonElement> Json(string path)
    {
        using var json = JsonDocument.Parse(await Text(path));
        return json.RootElement.Clone();
    }

    [GeneratedRegex("<a id=\"permalink\" href=\"([^\"]*)\"")]
    private static partial Regex Permalink();

    [GeneratedRegex("<tr data-trace-id=\"([^\"]*)\"")]
    private static partial Regex Rows();
}
