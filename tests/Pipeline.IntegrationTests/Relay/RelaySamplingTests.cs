using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Pipeline.Aws;
using Pipeline.IntegrationTests.Aws;
using Pipeline.Testing;
using Relay.Http;
using Relay.Logging;

namespace Pipeline.IntegrationTests.Relay;

/// <summary>The binary's SDK sampling endpoint: proxy mode against a stub X-Ray, and a real SDK end to end.</summary>
public sealed class RelaySamplingTests(MotoFixture moto) : IDisposable
{
    private readonly AwsClients _aws = MotoAws.Clients(moto);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    public void Dispose() => _aws.Dispose();

    [Fact]
    public async Task Relay_ProxyMode_ForwardsBothCallsSignedToXRay()
    {
        var seen = new ConcurrentQueue<HttpRequest>();
        await using var stub = new HttpServer("xray-stub", new IPEndPoint(IPAddress.Loopback, 0), (request, _) =>
        {
            // The body is pooled and valid only during the call: keep a copy.
            seen.Enqueue(request with { Body = request.Body.ToArray() });
            var body = request.Path == "/GetSamplingRules"
                ? """{"SamplingRuleRecords":[{"SamplingRule":{"RuleName":"from-xray","RuleARN":"arn:aws:xray:us-east-1:1:sampling-rule/from-xray","ResourceARN":"*","Priority":5,"FixedRate":0.25,"ReservoirSize":3,"ServiceName":"*","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"*","Version":1},"CreatedAt":1700000000.0,"ModifiedAt":1700000001.0}]}"""
                : """{"SamplingTargetDocuments":[{"RuleName":"from-xray","FixedRate":0.5,"ReservoirQuota":7,"ReservoirQuotaTTL":1700000100.0,"Interval":10}],"LastRuleModification":1700000001.0,"UnprocessedStatistics":[]}""";
            return Task.FromResult(HttpResponse.Json(200, Encoding.UTF8.GetBytes(body)));
        }, new HttpListenerLimits(), new HttpServerMetrics("xray-stub"), JsonLog.Null, TimeProvider.System);
        stub.Start();
        await using var relay = await RelayProcess.StartAsync(
            RelayProcess.Flags(moto.Endpoint, "unused", "--sdk-sampling", "proxy"),
            new Dictionary<string, string> { ["AWS_ENDPOINT_URL_XRAY"] = $"http://{stub.LocalEndpoint}" });
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });

        // Exactly what an SDK sends: unsigned rest-json POSTs to the daemon's TCP address.
        using var rulesBody = new StringContent("{}", Encoding.UTF8, "application/json");
        var rules = await http.PostAsync(new Uri($"http://{relay.TcpEndpoint}/GetSamplingRules"), rulesBody, _ct);
        using var targetsBody = new StringContent("""{"SamplingStatisticsDocuments":[{"RuleName":"from-xray","ClientID":"0123456789abcdef01234567","Timestamp":1700000050,"RequestCount":4,"SampledCount":2,"BorrowCount":0}]}""", Encoding.UTF8, "application/json");
        var targets = await http.PostAsync(new Uri($"http://{relay.TcpEndpoint}/SamplingTargets"), targetsBody, _ct);

        rules.StatusCode.Should().Be(HttpStatusCode.OK, relay.Stdout);
        using var rulesJson = JsonDocument.Parse(await rules.Content.ReadAsStringAsync(_ct));
        var rule = rulesJson.RootElement.GetProperty("SamplingRuleRecords")[0].GetProperty("SamplingRule");
        rule.GetProperty("RuleName").GetString().Should().Be("from-xray");
        rule.GetProperty("FixedRate").GetDouble().Should().Be(0.25);
        using var targetsJson = JsonDocument.Parse(await targets.Content.ReadAsStringAsync(_ct));
        targetsJson.RootElement.GetProperty("SamplingTargetDocuments")[0].GetProperty("ReservoirQuota").GetInt32().Should().Be(7);
        targetsJson.RootElement.GetProperty("LastRuleModification").GetDouble().Should().Be(1700000001.0);

        var calls = seen.ToList();
        calls.Select(c => c.Path).Should().Equal("/GetSamplingRules", "/SamplingTargets");
        foreach (var call in calls)
        {
            call.Headers["authorization"].Should().StartWith("AWS4-HMAC-SHA256").And.Contain("/us-east-1/xray/aws4_request");
        }

        using var forwarded = JsonDocument.Parse(calls[1].Body);
        var statistics = forwarded.RootElement.GetProperty("SamplingStatisticsDocuments")[0];
        statistics.GetProperty("ClientID").GetString().Should().Be("0123456789abcdef01234567");
        statistics.GetProperty("RequestCount").GetInt32().Should().Be(4);
    }

    [Fact]
    public async Task Relay_ProxyModeXRayDown_Answers502()
    {
        await using var relay = await RelayProcess.StartAsync(
            RelayProcess.Flags(moto.Endpoint, "unused", "--sdk-sampling", "proxy"),
            new Dictionary<string, string> { ["AWS_ENDPOINT_URL_XRAY"] = "http://127.0.0.1:9" });
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });

        using var body = new StringContent("{}", Encoding.UTF8, "application/json");
        var response = await http.PostAsync(new Uri($"http://{relay.TcpEndpoint}/GetSamplingRules"), body, _ct);

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
    }

    [Fact]
    public async Task Relay_PythonSdkEndToEnd_EveryRequestTracedAndOnKinesis()
    {
        const int requests = 100;
        var stream = MotoFixture.UniqueName("relay-sdk");
        await _aws.Kinesis.CreateStreamAsync(stream, 2, _ct);
        await using var relay = await RelayProcess.StartAsync(RelayProcess.Flags(moto.Endpoint, stream));

        var script = Path.Combine(RepoPaths.Root, "tests", "Relay.Tests", "Scripts", "sdk_sampling.py");
        var start = new ProcessStartInfo("python3") { ArgumentList = { script, requests.ToString(System.Globalization.CultureInfo.InvariantCulture) }, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["AWS_XRAY_DAEMON_ADDRESS"] = $"udp:{relay.UdpEndpoint} tcp:{relay.TcpEndpoint}";
        using var python = Process.Start(start)!;
        var output = await python.StandardOutput.ReadToEndAsync(_ct);
        var error = await python.StandardError.ReadToEndAsync(_ct);
        await python.WaitForExitAsync(_ct);

        python.ExitCode.Should().Be(0, error);
        using var result = JsonDocument.Parse(output);
        result.RootElement.GetProperty("sampled").GetInt32().Should().Be(requests);
        var traceIds = result.RootElement.GetProperty("trace_ids").EnumerateArray().Select(t => t.GetString()!).ToList();
        var records = await RelayData.WaitForRecordsAsync(_aws.Kinesis, stream, requests);
        records.Select(r => r.Record.PartitionKey).Should().BeEquivalentTo(traceIds);
    }
}
