namespace Pipeline.Testing.Builders;

/// <summary>
/// A faulted trace shaped like the demo's (service-a → service-b with the Node aws-xray-sdk),
/// built with <see cref="SegmentBuilder"/>: service-a (GET /checkout, 500) calls service-b
/// through an HTTP subsegment; service-b's segment names that subsegment as its parent and
/// holds a DynamoDB PutItem that faulted (with a cause); service-a then writes an independent
/// subsegment. Offsets and durations in milliseconds are known exactly (see the constants).
/// </summary>
public static class DemoTrace
{
    public const string SegmentA = "a000000000000001";
    public const string CallB = "a000000000000002";
    public const string SegmentB = "b000000000000001";
    public const string Dynamo = "b000000000000002";
    public const string Independent = "a000000000000003";

    /// <summary>(id, depth, offset ms, duration ms) of every span, in waterfall order.</summary>
    public static IReadOnlyList<(string Id, int Depth, double OffsetMs, double DurationMs)> Spans { get; } =
    [
        (SegmentA, 0, 0, 300), (CallB, 1, 20, 230), (SegmentB, 2, 30, 210), (Dynamo, 3, 40, 190), (Independent, 1, 260, 30),
    ];

    /// <summary>A trace id whose epoch is <paramref name="start"/> (random part from a seed).</summary>
    public static string TraceId(DateTimeOffset start, int seed = 42) => SegmentBuilder.NewTraceId(start, new Random(seed));

    /// <summary>The three documents (service-a, service-b, the independent subsegment) as JSON lines.</summary>
    public static IReadOnlyList<string> Documents(DateTimeOffset start, string traceId)
    {
        double T(double ms) => (start.ToUnixTimeMilliseconds() + ms) / 1000.0;
        var a = SegmentBuilder.Segment("service-a", seed: 1, start).WithTraceId(traceId).WithId(SegmentA).WithTimes(T(0), T(300))
            .WithHttp("GET", "http://service-a/checkout", 500).WithFault()
            .WithSubsegment(SegmentBuilder.Embedded("service-b", seed: 2).WithId(CallB).WithNamespace("remote").WithTimes(T(20), T(250))
                .WithHttp("GET", "http://service-b/pay", 500).WithFault());
        var b = SegmentBuilder.Segment("service-b", seed: 3, start).WithTraceId(traceId).WithId(SegmentB).WithParentId(CallB).WithTimes(T(30), T(240))
            .WithHttp("GET", "http://service-b/pay", 500).WithFault().WithCause("payment table unavailable")
            .WithSubsegment(SegmentBuilder.Embedded("DynamoDB", seed: 4).WithId(Dynamo).WithAws("PutItem", tableName: "payments").WithTimes(T(40), T(230)).WithFault());
        var independent = SegmentBuilder.IndependentSubsegment("render", seed: 5, start).WithTraceId(traceId).WithId(Independent).WithParentId(SegmentA).WithTimes(T(260), T(290));
        return [a.ToJson(), b.ToJson(), independent.ToJson()];
    }
}
