using Pipeline.Aws.XRay;
using Pipeline.Functions.Ingest;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Functions.Tests.Ingest;

public sealed class XRayForwarderTests
{
    private static readonly ForwardDocument[] Documents = [.. Enumerable.Range(0, 3).Select(i => new ForwardDocument($"id{i}", $"{{\"id\":\"id{i}\"}}"))];

    [Theory]
    [InlineData(-29 * 24, true)]
    [InlineData(-31 * 24, false)]
    [InlineData(23, true)]
    [InlineData(25, false)]
    [InlineData(0, true)]
    public void AcceptsTraceEpoch_WithinThirtyDaysBackAndOneDayAhead(int hours, bool accepted)
    {
        var now = new DateTimeOffset(2026, 11, 25, 14, 30, 0, TimeSpan.Zero);
        var epoch = (now + TimeSpan.FromHours(hours)).ToUnixTimeSeconds();
        var traceId = System.Text.Encoding.ASCII.GetBytes($"1-{epoch:x8}-a006649127e371903a2de979");

        XRayForwarder.AcceptsTraceEpoch(traceId, now).Should().Be(accepted);
    }

    [Fact]
    public void AcceptsTraceEpoch_RandomW3CPrefix_IsRefused()
    {
        var now = new DateTimeOffset(2026, 11, 25, 14, 30, 0, TimeSpan.Zero);

        XRayForwarder.AcceptsTraceEpoch("1-0a1b2c3d-a006649127e371903a2de979"u8, now).Should().BeFalse("0x0a1b2c3d is 1975");
        XRayForwarder.AcceptsTraceEpoch("1-f3a1b2c3-a006649127e371903a2de979"u8, now).Should().BeFalse("0xf3a1b2c3 is 2099");
    }

    [Fact]
    public async Task Forwarder_UnprocessedWithUnknownId_ResendsTheWholeChunk()
    {
        var xray = new ScriptedXRay([new UnprocessedTraceSegment("not-ours", "X", "?")], []);

        var result = await new XRayForwarder(xray, TimeProvider.System, new BackoffOptions { MaxAttempts = 3, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero }).SendAsync(Documents, () => true, TestContext.Current.CancellationToken);

        xray.Calls.Should().HaveCount(2);
        xray.Calls[1].Should().Equal(Documents.Select(d => d.Document));
        result.Refused.Should().BeEmpty();
    }

    [Fact]
    public async Task Forwarder_AlwaysRefused_BoundedRoundsThenReturnedInInputOrder()
    {
        UnprocessedTraceSegment[] refuse = [new("id2", "X", "?"), new("id0", "X", "?")];
        var xray = new ScriptedXRay(refuse, refuse, refuse, refuse, refuse);

        var result = await new XRayForwarder(xray, TimeProvider.System, new BackoffOptions { MaxAttempts = 3, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero }).SendAsync(Documents, () => true, TestContext.Current.CancellationToken);

        xray.Calls.Should().HaveCount(3);
        result.Refused.Select(d => d.Id).Should().Equal("id0", "id2");
        result.Outage.Should().BeFalse();
    }

    [Fact]
    public async Task Forwarder_MayNotCall_NothingSentEverythingReturned()
    {
        var xray = new ScriptedXRay();

        var result = await new XRayForwarder(xray, TimeProvider.System, new BackoffOptions { MaxAttempts = 3, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero }).SendAsync(Documents, () => false, TestContext.Current.CancellationToken);

        xray.Calls.Should().BeEmpty();
        result.Refused.Should().Equal(Documents);
    }

    private sealed class ScriptedXRay(params UnprocessedTraceSegment[][] answers) : IXRayClient
    {
        public List<IReadOnlyList<string>> Calls { get; } = [];

        public Task<IReadOnlyList<UnprocessedTraceSegment>> PutTraceSegmentsAsync(IReadOnlyList<string> segmentDocuments, CancellationToken cancellationToken = default)
        {
            Calls.Add(segmentDocuments);
            return Task.FromResult<IReadOnlyList<UnprocessedTraceSegment>>(Calls.Count <= answers.Length ? answers[Calls.Count - 1] : []);
        }

        public Task<SamplingRulesPage> GetSamplingRulesAsync(string? nextToken = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<SamplingTargetsResult> GetSamplingTargetsAsync(IReadOnlyList<SamplingStatistics> statistics, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
