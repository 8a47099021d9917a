using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Relay.Config;
using Relay.Http;
using Relay.Logging;
using Relay.Sampling;
using Relay.Tests.Support;

namespace Relay.Tests.Sampling;

public sealed class SamplingResponderTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture));

    private SamplingResponder Responder(RelayOptions? options = null, ISamplingUpstream? upstream = null) =>
        new(options ?? TestRelay.Options(), _time, upstream, JsonLog.Null);

    private static HttpRequest Post(string path, string body = "{}") =>
        new("POST", path, Encoding.UTF8.GetBytes(body));

    private static string Targets(params (string Rule, string Client)[] docs) =>
        JsonSerializer.Serialize(new { SamplingStatisticsDocuments = docs.Select(d => new { RuleName = d.Rule, ClientID = d.Client, RequestCount = 3, BorrowCount = 0, SampledCount = 3, Timestamp = 1 }) });

    [Fact]
    public async Task GetSamplingRules_All_ServesOneRecordEverythingRuleTheSdksAccept()
    {
        var response = await Responder().HandleAsync(Post("/GetSamplingRules"), TestContext.Current.CancellationToken);

        response.Status.Should().Be(200);
        using var json = JsonDocument.Parse(response.Body);
        var records = json.RootElement.GetProperty("SamplingRuleRecords");
        records.GetArrayLength().Should().Be(1);
        var rule = records[0].GetProperty("SamplingRule");
        rule.GetProperty("RuleName").GetString().Should().Be("pipeline-record-all");
        rule.GetProperty("FixedRate").GetDouble().Should().Be(1.0);
        rule.GetProperty("ReservoirSize").GetInt32().Should().BeGreaterThanOrEqualTo(100_000);
        rule.GetProperty("Version").GetInt32().Should().Be(1);
        rule.GetProperty("Priority").GetInt32().Should().BeInRange(1, 9999);
        foreach (var wildcard in new[] { "ResourceARN", "ServiceName", "ServiceType", "Host", "HTTPMethod", "URLPath" })
        {
            rule.GetProperty(wildcard).GetString().Should().Be("*");
        }

        // The Python SDK drops a rule with attributes, the Node SDK one without the (empty) object.
        rule.GetProperty("Attributes").ValueKind.Should().Be(JsonValueKind.Object);
        rule.GetProperty("Attributes").EnumerateObject().Should().BeEmpty();
    }

    [Fact]
    public async Task SamplingTargets_All_EchoesRateOneWithLastRuleModification()
    {
        var response = await Responder().HandleAsync(Post("/SamplingTargets", Targets(("pipeline-record-all", "c1"))), TestContext.Current.CancellationToken);

        response.Status.Should().Be(200);
        using var json = JsonDocument.Parse(response.Body);
        var target = json.RootElement.GetProperty("SamplingTargetDocuments").EnumerateArray().Single();
        target.GetProperty("RuleName").GetString().Should().Be("pipeline-record-all");
        target.GetProperty("FixedRate").GetDouble().Should().Be(1.0);
        target.GetProperty("Interval").GetInt32().Should().Be(10);
        target.GetProperty("ReservoirQuotaTTL").GetInt64().Should().Be(_time.GetUtcNow().ToUnixTimeSeconds() + 30);
        target.GetProperty("ReservoirQuota").GetInt32().Should().BeGreaterThan(0);
        json.RootElement.GetProperty("LastRuleModification").GetDouble().Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task SamplingTargets_UnknownRule_IsReportedUnprocessed()
    {
        var response = await Responder().HandleAsync(Post("/SamplingTargets", Targets(("Default", "c1"))), TestContext.Current.CancellationToken);

        using var json = JsonDocument.Parse(response.Body);
        json.RootElement.GetProperty("SamplingTargetDocuments").GetArrayLength().Should().Be(0);
        json.RootElement.GetProperty("UnprocessedStatistics")[0].GetProperty("RuleName").GetString().Should().Be("Default");
    }

    [Fact]
    public async Task SamplingTargets_Capped_SharesTheCapAmongActiveClients()
    {
        var responder = Responder(TestRelay.Options() with { SdkMaxPerSecond = 100 });
        await responder.HandleAsync(Post("/SamplingTargets", Targets(("pipeline-record-all", "a"))), TestContext.Current.CancellationToken);
        await responder.HandleAsync(Post("/SamplingTargets", Targets(("pipeline-record-all", "b"))), TestContext.Current.CancellationToken);

        var shared = await responder.HandleAsync(Post("/SamplingTargets", Targets(("pipeline-record-all", "c"), ("pipeline-record-all", "d"))), TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromMinutes(2));
        var alone = await responder.HandleAsync(Post("/SamplingTargets", Targets(("pipeline-record-all", "a"))), TestContext.Current.CancellationToken);

        Quota(shared).Should().Be(25);
        Quota(alone).Should().Be(100, "clients silent for three intervals no longer share the cap");
        using var json = JsonDocument.Parse(alone.Body);
        json.RootElement.GetProperty("SamplingTargetDocuments")[0].GetProperty("FixedRate").GetDouble().Should().Be(0.0, "the cap only holds when nothing is sampled beyond the quota");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("[1,2]")]
    [InlineData("""{"SamplingStatisticsDocuments":[{"RuleName":"\ud800","ClientID":"c"}]}""")]
    [InlineData("""{"SamplingStatisticsDocuments":[{"RuleName":"pipeline-record-all","ClientID":"\udfff\ud800"}]}""")]
    public async Task SamplingTargets_BadBody_Is400(string body)
    {
        var response = await Responder().HandleAsync(Post("/SamplingTargets", body), TestContext.Current.CancellationToken);

        response.Status.Should().Be(400);
    }

    [Fact]
    public async Task SamplingTargets_InvalidUtf8_Is400()
    {
        var body = "{\"SamplingStatisticsDocuments\":[{\"RuleName\":\""u8.ToArray().Concat(new byte[] { 0xC3, 0x28, 0xFF }).Concat("\",\"ClientID\":\"c\"}]}"u8.ToArray()).ToArray();

        var response = await Responder().HandleAsync(new HttpRequest("POST", "/SamplingTargets", body), TestContext.Current.CancellationToken);

        response.Status.Should().Be(400);
    }

    [Fact]
    public async Task Handle_OtherPathsAndMethods_AreRefused()
    {
        (await Responder().HandleAsync(Post("/TraceSegments"), TestContext.Current.CancellationToken)).Status.Should().Be(404);
        (await Responder().HandleAsync(new HttpRequest("GET", "/GetSamplingRules", ReadOnlyMemory<byte>.Empty), TestContext.Current.CancellationToken)).Status.Should().Be(405);
    }

    [Fact]
    public async Task Proxy_ForwardsBothCallsAndReturnsTheUpstreamAnswer()
    {
        var upstream = new RecordingUpstream();
        var responder = Responder(TestRelay.Options() with { SdkSampling = SdkSamplingMode.Proxy }, upstream);

        var rules = await responder.HandleAsync(Post("/GetSamplingRules", "{\"NextToken\":null}"), TestContext.Current.CancellationToken);
        var targets = await responder.HandleAsync(Post("/SamplingTargets", "{\"SamplingStatisticsDocuments\":[]}"), TestContext.Current.CancellationToken);

        upstream.Calls.Should().Equal(("/GetSamplingRules", "{\"NextToken\":null}"), ("/SamplingTargets", "{\"SamplingStatisticsDocuments\":[]}"));
        Encoding.UTF8.GetString(rules.Body.Span).Should().Be("{\"from\":\"/GetSamplingRules\"}");
        targets.Status.Should().Be(200);
    }

    [Fact]
    public async Task Proxy_UpstreamDown_Is502()
    {
        var responder = Responder(TestRelay.Options() with { SdkSampling = SdkSamplingMode.Proxy }, new RecordingUpstream { Fail = true });

        var response = await responder.HandleAsync(Post("/GetSamplingRules"), TestContext.Current.CancellationToken);

        response.Status.Should().Be(502);
    }

    [Fact]
    public void Proxy_WithoutUpstream_IsRefusedAtConstruction()
    {
        var act = () => Responder(TestRelay.Options() with { SdkSampling = SdkSamplingMode.Proxy });

        act.Should().Throw<ArgumentException>();
    }

    private static int Quota(HttpResponse response)
    {
        using var json = JsonDocument.Parse(response.Body);
        return json.RootElement.GetProperty("SamplingTargetDocuments")[0].GetProperty("ReservoirQuota").GetInt32();
    }

    private sealed class RecordingUpstream : ISamplingUpstream
    {
        public List<(string Path, string Body)> Calls { get; } = [];

        public bool Fail { get; init; }

        public Task<(int Status, byte[] Body)> ForwardAsync(string path, byte[] body, CancellationToken cancellationToken)
        {
            if (Fail)
            {
                throw new HttpRequestException("unreachable");
            }

            Calls.Add((path, Encoding.UTF8.GetString(body)));
            return Task.FromResult((200, Encoding.UTF8.GetBytes($"{{\"from\":\"{path}\"}}")));
        }
    }
}
