using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Archive;
using Pipeline.Core.Traces;
using Pipeline.Functions.ServiceGraph;
using Pipeline.Lambda;
using Pipeline.Testing;
using Pipeline.Testing.Builders;

namespace Pipeline.Functions.Tests.ServiceGraph;

/// <summary>
/// The service-graph function keeps the trace-id index of the hours that closed: it writes the
/// index of an hour once, says so, leaves a current one alone, rebuilds one whose hour changed,
/// and a refused write costs the index only, never the graph.
/// </summary>
public sealed class TraceIndexWriterTests
{
    private const string Bucket = "archive";
    private static readonly DateTimeOffset Noon = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly string Faulted = DemoTrace.TraceId(Noon.AddMinutes(10));
    private static readonly string IndexKey = "trace-index/dt=2026-11-25/hour=12/index.tsv.gz";

    [Fact]
    public async Task Handle_AfterTheHourClosed_WritesItsIndex_ThenLeavesItCurrent()
    {
        var store = Archive();
        var handler = new ServiceGraphHandler(new ServiceGraphOptions { ArchiveBucket = Bucket }, store, sql: null);

        var first = await InvokeAsync(handler, Noon.AddHours(1).AddMinutes(2));
        var second = await InvokeAsync(handler, Noon.AddHours(1).AddMinutes(3));

        first.GetProperty("traceIndex").GetProperty("built").GetInt32().Should().Be(1);
        second.GetProperty("traceIndex").GetProperty("built").GetInt32().Should().Be(0);
        second.GetProperty("traceIndex").GetProperty("current").GetInt32().Should().Be(1);
        store.Puts.Count(k => k == IndexKey).Should().Be(1);
        var index = TraceIndex.TryParse(store.Objects[Bucket + "/" + IndexKey].Bytes)!;
        index.Objects.Should().ContainSingle();
        index.ObjectsOf(Faulted).Should().Equal(0);
    }

    [Fact]
    public async Task Handle_HourStillOpen_IsNotIndexed()
    {
        var store = Archive();
        var handler = new ServiceGraphHandler(new ServiceGraphOptions { ArchiveBucket = Bucket }, store, sql: null);

        // The detail names 12:00-12:30; at 12:31 the 12h partition is still taking arrivals.
        var body = await InvokeAsync(handler, Noon.AddMinutes(31), """{"windowStart":"2026-11-25T12:00:00Z","windowEnd":"2026-11-25T12:30:00Z"}""");

        body.GetProperty("traceIndex").GetProperty("built").GetInt32().Should().Be(0);
        store.Puts.Should().NotContain(IndexKey);
    }

    [Fact]
    public async Task Handle_ObjectArrivedAfterTheIndex_RebuildsIt()
    {
        var store = Archive();
        var handler = new ServiceGraphHandler(new ServiceGraphOptions { ArchiveBucket = Bucket }, store, sql: null);
        await InvokeAsync(handler, Noon.AddHours(1).AddMinutes(2));
        var late = DemoTrace.TraceId(Noon.AddMinutes(50), seed: 9);
        await store.PutAsync(Bucket, ArchiveKeys.Segments("shardId-000000000001", "77", Noon.AddMinutes(55)), Gzip(DemoTrace.Documents(Noon.AddMinutes(50), late)), "application/gzip", TestContext.Current.CancellationToken);

        var body = await InvokeAsync(handler, Noon.AddHours(1).AddMinutes(3));

        body.GetProperty("traceIndex").GetProperty("built").GetInt32().Should().Be(1);
        var index = TraceIndex.TryParse(store.Objects[Bucket + "/" + IndexKey].Bytes)!;
        index.Objects.Should().HaveCount(2);
        index.ObjectsOf(late).Should().ContainSingle();
    }

    [Fact]
    public async Task Handle_IndexWriteRefused_CountsTheFailure_AndStillWritesTheGraph()
    {
        var store = Archive(new InMemoryObjectStore { RefusedPutPrefix = TraceIndex.Prefix });
        var handler = new ServiceGraphHandler(new ServiceGraphOptions { ArchiveBucket = Bucket }, store, sql: null);

        var body = await InvokeAsync(handler, Noon.AddHours(1).AddMinutes(2));

        body.GetProperty("traceIndex").GetProperty("failed").GetInt32().Should().Be(1);
        body.GetProperty("json").GetString().Should().Be("graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.json");
        store.Puts.Should().Contain("graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.json").And.NotContain(IndexKey);
    }

    [Theory]
    [InlineData("2026-11-25T12:00:00Z", "2026-11-25T13:00:00Z", "2026-11-25T13:02:00Z", "11,12")]
    [InlineData("2026-11-25T12:00:00Z", "2026-11-25T13:00:00Z", "2026-11-25T12:59:00Z", "11")]
    [InlineData("2026-11-25T12:00:00Z", "2026-11-25T12:30:00Z", "2026-11-25T12:31:00Z", "11")]
    [InlineData("2026-11-25T00:00:00Z", "2026-11-25T01:00:00Z", "2026-11-25T01:05:00Z", "23,00")]
    public void ClosedHours_AreTheWindowAndTheOneBefore_EndedByNow(string start, string end, string now, string hours)
    {
        var closed = TraceIndexWriter.ClosedHours(DateTimeOffset.Parse(start, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse(end, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));

        closed.Select(h => h.Hour).Should().Equal(hours.Split(','));
    }

    private static InMemoryObjectStore Archive(InMemoryObjectStore? store = null)
    {
        store ??= new InMemoryObjectStore();
        store.PutAsync(Bucket, ArchiveKeys.Segments("shardId-000000000000", "1", Noon.AddMinutes(10)), Gzip(DemoTrace.Documents(Noon.AddMinutes(10), Faulted)), "application/gzip").GetAwaiter().GetResult();
        return store;
    }

    private static byte[] Gzip(IEnumerable<string> lines) => TestGzip.Compress(Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));

    private static async Task<JsonElement> InvokeAsync(ServiceGraphHandler handler, DateTimeOffset time, string detail = "{}")
    {
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(
            $$"""{"version":"0","id":"e1","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"{{time:yyyy-MM-ddTHH:mm:ssZ}}","region":"us-east-1","resources":[],"detail":{{detail}}}"""));
        var context = new InvocationContext("req-1", time.AddMinutes(15), null, null, new FakeTimeProvider(time), NullLogger.Instance, TestContext.Current.CancellationToken);
        await using var response = await handler.HandleAsync(input, context);
        using var body = await JsonDocument.ParseAsync(response, cancellationToken: TestContext.Current.CancellationToken);
        return body.RootElement.Clone();
    }
}
