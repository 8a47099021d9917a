using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.DynamoDb;
using Pipeline.Aws.Kinesis;
using Pipeline.Core.Cost;
using Pipeline.Core.Usage;
using Pipeline.Functions.Ingest;
using Pipeline.Functions.XRayReplay;
using Pipeline.IntegrationTests.Ingest;
using Pipeline.Lambda;
using Pipeline.Lambda.Logging;
using Pipeline.Runtime.Configuration;
using Pipeline.Runtime.Resilience;
using Pipeline.Runtime.Telemetry;
using Pipeline.Testing;
using Pipeline.Testing.Builders;
using Pipeline.Testing.Faults;

namespace Pipeline.IntegrationTests.Cost;

/// <summary>
/// Measures what the cost model takes per batch or per invocation (StackFootprint, the usage
/// record's decision counts) by running the handlers against moto through a recording proxy:
/// the DynamoDB keys read and items written, that our code makes no KMS call, and the log bytes
/// an invocation writes (its JSON lines and EMF line). The bootstrap's EMF lines of the shared
/// meter (retry counters) appear only on invocations that retried, and that meter is process-wide
/// (other tests move it), so they are left out. The figures are printed to the test output;
/// docs/cost-report.md has them and how they were taken.
/// </summary>
public sealed class CostQuantityMeasurementTests(MotoFixture moto, ITestOutputHelper output) : IClassFixture<MotoFixture>
{
    /// <summary>A typical relay batch: 150 traces of three segments (450 records, under PutRecords' 500), one in 20 with an error, head rate 5 %.</summary>
    private const int Traces = 150;

    [Fact]
    public async Task IngestBatch_DecisionTableUnits_KmsCalls_AndLogBytes_AreWhatTheCostModelCounts()
    {
        var ct = TestContext.Current.CancellationToken;
        using var pipeline = await MotoPipeline.CreateAsync(moto, ct);
        await using var proxy = await FaultProxy.StartRecordingAsync(new Uri(moto.EnvironmentVariables[AwsSettings.EndpointUrlVariable]), cancellationToken: ct);
        var environment = Environment(pipeline, proxy);
        environment["SAMPLING_RATE"] = "0.05";
        using var clients = AwsClients.Create(AwsSettings.FromEnvironment(new DictionaryEnvironment(environment)));
        var start = TimeProvider.System.GetUtcNow().AddMinutes(-1);
        var entries = new List<PutRecordsEntry>();
        for (var t = 0; t < Traces; t++)
        {
            var root = SegmentBuilder.Segment("front", seed: 50_000 + t, start: start);
            root = t % 20 == 0 ? root.WithError() : root;
            var child = SegmentBuilder.Segment("back", seed: 60_000 + t, start: start).WithTraceId(root.TraceId).WithParentId(root.Id);
            var db = SegmentBuilder.IndependentSubsegment("db", seed: 70_000 + t, start: start).WithTraceId(root.TraceId);
            entries.AddRange(new[] { root, child, db }.Select(s => new PutRecordsEntry(s.ToUtf8(), root.TraceId)));
        }

        await pipeline.PutAsync(entries, ct);
        var (events, _) = await pipeline.ReadEventAsync(afterSequence: null, ct);
        using var logs = new MemoryStream();
        var logger = new JsonLineLogger(logs, TimeProvider.System, LogLevel.Information).ForRequest(Guid.NewGuid().ToString());
        var options = IngestOptions.FromEnvironment(new DictionaryEnvironment(environment)) with { XRayResend = new BackoffOptions { MaxAttempts = 2, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero } };
        var decisions = new DynamoDbTraceDecisionStore(new DynamoDbDecisionTable(clients.DynamoDb, pipeline.Table, TimeProvider.System), TimeProvider.System);
        var handler = new IngestHandler(options, clients.ObjectStore, clients.XRay, decisions, TimeProvider.System, new StreamMetricsSink(logs));

        await RunAsync(handler, events, logger, ct);

        var usage = UsageJson.TryDeserialize(Encoding.UTF8.GetBytes((await pipeline.ReadLinesAsync("usage/", ct)).Single()))!;
        var exchanges = proxy.Exchanges;
        var keysRead = exchanges.Where(e => e.Request.Operation == "BatchGetItem").Sum(e => Count(e.Body, "Keys"));
        var itemsWritten = exchanges.Where(e => e.Request.Operation == "BatchWriteItem").Sum(e => Count(e.Body, null));
        var largestItem = exchanges.Where(e => e.Request.Operation == "BatchWriteItem").SelectMany(e => Items(e.Body)).DefaultIfEmpty(0).Max();
        var logBytes = logs.Length;
        output.WriteLine($"batch: {entries.Count} records, {Traces} traces; decision keys read {keysRead}, items written {itemsWritten} (largest item JSON {largestItem} bytes); requests by service: {string.Join(", ", exchanges.GroupBy(e => e.Request.Service).Select(g => $"{g.Key} {g.Count()}"))}");
        output.WriteLine($"ingest log bytes this invocation: {logBytes} ({Lines(logs)} lines); StackFootprint.IngestOwnLogBytesPerInvocation = {StackFootprint.IngestOwnLogBytesPerInvocation}");

        usage.DecisionReads.Should().Be(keysRead).And.BeGreaterThan(0, "head-dropped traces are looked up");
        usage.DecisionWrites.Should().Be(itemsWritten).And.Be(Enumerable.Range(0, Traces).Count(t => t % 20 == 0), "one tail keep per errored trace");
        largestItem.Should().BeLessThan(1024, "an item under 1 KB is one write request unit (StackFootprint.WriteRequestUnitsPerDecisionWrite)");
        exchanges.Should().NotContain(e => e.Request.Service == "kms", "the functions never call KMS; Kinesis does, per credential (StackFootprint.KmsRequestsPerCredentialHour)");
        logBytes.Should().BeInRange(StackFootprint.IngestOwnLogBytesPerInvocation / 2, StackFootprint.IngestOwnLogBytesPerInvocation,
            "StackFootprint.IngestOwnLogBytesPerInvocation is this measurement rounded up: re-measure and update it (and docs/cost-report.md) when the ingest logs more or less");
    }

    [Fact]
    public async Task XRayReplay_NothingParked_LogBytesAreTheScheduledFootprint()
    {
        var ct = TestContext.Current.CancellationToken;
        using var pipeline = await MotoPipeline.CreateAsync(moto, ct);
        await using var proxy = await FaultProxy.StartRecordingAsync(new Uri(moto.EnvironmentVariables[AwsSettings.EndpointUrlVariable]), cancellationToken: ct);
        var environment = Environment(pipeline, proxy);
        using var clients = AwsClients.Create(AwsSettings.FromEnvironment(new DictionaryEnvironment(environment)));
        using var logs = new MemoryStream();
        var logger = new JsonLineLogger(logs, TimeProvider.System, LogLevel.Information).ForRequest(Guid.NewGuid().ToString());
        var handler = new XRayReplayHandler(XRayReplayOptions.FromEnvironment(new DictionaryEnvironment(environment)), clients.ObjectStore, new NoDeletes(), clients.XRay, TimeProvider.System);

        using var input = new MemoryStream("""{"detail-type":"Scheduled Event","source":"aws.events","time":"2026-11-26T07:00:00Z","detail":{}}"""u8.ToArray());
        await using (await handler.HandleAsync(input, Context(logger, ct)))
        {
        }

        output.WriteLine($"xray-replay log bytes (nothing parked): {logs.Length} ({Lines(logs)} lines); StackFootprint.ScheduledOwnLogBytesPerInvocation = {StackFootprint.ScheduledOwnLogBytesPerInvocation}");
        proxy.Exchanges.Should().NotContain(e => e.Request.Service == "kms");
        logs.Length.Should().BeInRange(StackFootprint.ScheduledOwnLogBytesPerInvocation / 2, StackFootprint.ScheduledOwnLogBytesPerInvocation,
            "StackFootprint.ScheduledOwnLogBytesPerInvocation is this measurement rounded up");
    }

    /// <summary>The function's variables with every AWS call sent through the recording proxy.</summary>
    private static Dictionary<string, string> Environment(MotoPipeline pipeline, FaultProxy proxy)
    {
        var environment = pipeline.FunctionEnvironment().ToDictionary(kv => kv.Key, kv => kv.Value ?? string.Empty, StringComparer.Ordinal);
        environment[AwsSettings.EndpointUrlVariable] = proxy.Endpoint.ToString();
        return environment;
    }

    private static async Task RunAsync(IngestHandler handler, KinesisEventBuilder events, ILogger logger, CancellationToken ct)
    {
        using var input = events.BuildStream();
        await using var response = await handler.HandleAsync(input, Context(logger, ct));
        using var json = await JsonDocument.ParseAsync(response, cancellationToken: ct);
        json.RootElement.GetProperty("batchItemFailures").GetArrayLength().Should().Be(0);
    }

    private static InvocationContext Context(ILogger logger, CancellationToken ct) =>
        new("measure", TimeProvider.System.GetUtcNow().AddMinutes(2), null, null, TimeProvider.System, logger, ct);

    /// <summary>Keys of a BatchGetItem body (<paramref name="member"/> "Keys") or write requests of a BatchWriteItem body (null).</summary>
    private static int Count(byte[] body, string? member)
    {
        using var json = JsonDocument.Parse(body);
        var total = 0;
        foreach (var table in json.RootElement.GetProperty("RequestItems").EnumerateObject())
        {
            total += member is null ? table.Value.GetArrayLength() : table.Value.GetProperty(member).GetArrayLength();
        }

        return total;
    }

    /// <summary>The JSON size of each item put: attribute names and values, an upper bound of DynamoDB's item size.</summary>
    private static List<int> Items(byte[] body)
    {
        using var json = JsonDocument.Parse(body);
        var sizes = new List<int>();
        foreach (var table in json.RootElement.GetProperty("RequestItems").EnumerateObject())
        {
            foreach (var write in table.Value.EnumerateArray())
            {
                sizes.Add(Encoding.UTF8.GetByteCount(write.GetProperty("PutRequest").GetProperty("Item").GetRawText()));
            }
        }

        return sizes;
    }

    private static int Lines(MemoryStream logs) => Encoding.UTF8.GetString(logs.ToArray()).Count(c => c == '\n');

    private sealed class NoDeletes : IObjectDeleter
    {
        public Task DeleteAsync(string bucket, string key, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException($"nothing is parked, so nothing should be deleted ({key})");
    }
}
