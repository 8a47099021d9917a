using System.Globalization;
using Pipeline.Aws;
using Pipeline.Testing;

namespace Pipeline.IntegrationTests.Aws;

/// <summary>PutTraceSegments against moto (the sampling calls are 404 there: see SamplingStubTests).</summary>
public sealed class XRayClientMotoTests(MotoFixture moto) : IDisposable
{
    private readonly AwsClients _aws = MotoAws.Clients(moto);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task PutTraceSegments_CompleteSegments_AllAccepted()
    {
        var documents = Enumerable.Range(0, 5).Select(i => Segment(i, complete: true)).ToList();

        var unprocessed = await _aws.XRay.PutTraceSegmentsAsync(documents, _ct);

        unprocessed.Should().BeEmpty();
    }

    [Fact]
    public async Task PutTraceSegments_SegmentWithoutEndTime_IsReportedUnprocessed()
    {
        var documents = new[] { Segment(1, complete: true), Segment(2, complete: false) };

        var unprocessed = await _aws.XRay.PutTraceSegmentsAsync(documents, _ct);

        unprocessed.Should().ContainSingle();
        unprocessed[0].ErrorCode.Should().NotBeNullOrEmpty();
    }

    public void Dispose() => _aws.Dispose();

    private static string Segment(int n, bool complete)
    {
        var id = Guid.NewGuid().ToString("N")[..16];
        var trace = string.Create(CultureInfo.InvariantCulture, $"1-5f84c7a1-{Guid.NewGuid().ToString("N")[..24]}");
        var end = complete ? ",\"end_time\":1602537378.2" : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"{{\"id\":\"{id}\",\"trace_id\":\"{trace}\",\"name\":\"svc-{n}\",\"start_time\":1602537377.1{end}}}");
    }
}
