using System.IO.Compression;
using System.Text;
using Pipeline.Testing.Builders;

namespace Pipeline.Cli.Tests.Graph;

/// <summary>
/// A local archive (gzip NDJSON under segments/dt=/hour=/) of <see cref="Traces"/> traces in the
/// window 12:00–13:00Z on 2026-11-25, shaped like the demo plus the remote kinds: client ->
/// service-a -> service-b over HTTP (the call nested one level in a handler subsegment),
/// service-a -> DynamoDB table orders (every 7th throttled), service-b -> api.example.com
/// (untraced, every 9th 503) and -> a PostgreSQL database; every 11th service-b request faults;
/// every 5th trace invokes Lambda: service-a -> resize (AWS::Lambda) -> resize (AWS::Lambda::Function).
/// One trace lies outside the window. Latencies are pseudo-random (seeded).
/// </summary>
public sealed class GraphTestArchive : IDisposable
{
    public const int Traces = 240;
    public static readonly DateTimeOffset WindowStart = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset WindowEnd = WindowStart.AddHours(1);

    public GraphTestArchive()
    {
        Root = Path.Combine(Path.GetTempPath(), "pipeline-graph-tests-" + Guid.NewGuid().ToString("N"));
        var random = new Random(42);
        var hour12 = new List<string>();
        var hour13 = new List<string>();
        for (var i = 0; i < Traces; i++)
        {
            var at = WindowStart.AddSeconds(i * 14.5);
            var docs = Trace(i, at, random);
            // Segments of the last minutes arrive in the next hour's partition.
            (at.Minute >= 58 ? hour13 : hour12).AddRange(docs);
        }

        hour13.AddRange(Trace(9999, WindowEnd.AddMinutes(1), random));
        Write("segments/dt=2026-11-25/hour=12/shardId-000000000000-1.ndjson.gz", hour12);
        Write("segments/dt=2026-11-25/hour=13/shardId-000000000000-900.ndjson.gz", hour13);
    }

    public string Root { get; }

    private static List<string> Trace(int i, DateTimeOffset at, Random random)
    {
        var trace = SegmentBuilder.NewTraceId(at, new Random(i));
        var seed = (i * 10) + 1;
        var bFault = i % 11 == 0;
        var callB = SegmentBuilder.Embedded("service-b", seed++, at).WithNamespace("remote")
            .WithDuration(TimeSpan.FromMilliseconds(20 + (random.NextDouble() * 200)))
            .WithHttp("GET", "http://service-b:3001/work", bFault ? 500 : 200);
        var handler = SegmentBuilder.Embedded("handler", seed++, at).WithDuration(TimeSpan.FromMilliseconds(300)).WithSubsegment(callB);
        var dynamo = SegmentBuilder.Embedded("DynamoDB", seed++, at).WithAws("GetItem", tableName: "orders")
            .WithDuration(TimeSpan.FromMilliseconds(2 + (random.NextDouble() * 30)));
        if (i % 7 == 0)
        {
            dynamo.WithThrottle().WithError();
        }

        var a = SegmentBuilder.Segment("service-a", seed++, at).WithTraceId(trace).WithOrigin("AWS::EC2::Instance")
            .WithDuration(TimeSpan.FromMilliseconds(350)).WithHttp("GET", "http://service-a:3000/", bFault ? 500 : 200)
            .WithSubsegment(handler).WithSubsegment(dynamo);
        var api = SegmentBuilder.Embedded("api.example.com", seed++, at).WithNamespace("remote")
            .WithDuration(TimeSpan.FromMilliseconds(50 + (random.NextDouble() * 400)))
            .WithHttp("POST", "https://API.example.com/v1/charge?x=1", i % 9 == 0 ? 503 : 200);
        var db = SegmentBuilder.Embedded("orders@db", seed++, at)
            .WithSql("postgresql://app@db.internal:5432/orders", "PostgreSQL")
            .WithDuration(TimeSpan.FromMilliseconds(1 + (random.NextDouble() * 5)));
        var b = SegmentBuilder.Segment("service-b", seed++, at).WithTraceId(trace).WithParentId(callB.Id).WithOrigin("AWS::ECS::Container")
            .WithDuration(TimeSpan.FromMilliseconds(200)).WithHttp("GET", "http://service-b:3001/work", bFault ? 500 : 200)
            .WithSubsegment(api).WithSubsegment(db);
        if (i % 5 != 0)
        {
            return [b.ToJson(), a.ToJson()];
        }

        // Every 5th trace also invokes a Lambda function: caller -> AWS::Lambda -> AWS::Lambda::Function.
        var invoke = SegmentBuilder.Embedded("Lambda", seed++, at).WithAws("Invoke").WithDuration(TimeSpan.FromMilliseconds(60 + (random.NextDouble() * 40)));
        a.WithSubsegment(invoke);
        var lambda = SegmentBuilder.Segment("resize", seed++, at).WithTraceId(trace).WithParentId(invoke.Id).WithOrigin("AWS::Lambda")
            .WithDuration(TimeSpan.FromMilliseconds(55));
        var function = SegmentBuilder.Segment("resize", seed++, at).WithTraceId(trace).WithParentId(lambda.Id).WithOrigin("AWS::Lambda::Function")
            .WithDuration(TimeSpan.FromMilliseconds(40));
        return [function.ToJson(), b.ToJson(), a.ToJson(), lambda.ToJson()];
    }

    private void Write(string key, IEnumerable<string> lines)
    {
        var path = Path.Combine(Root, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
    }

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
