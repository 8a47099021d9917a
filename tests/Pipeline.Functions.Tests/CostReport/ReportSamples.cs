using Pipeline.Core.Graph;
using Pipeline.Core.Cost;
using Pipeline.Core.Usage;
using Pipeline.Functions.CostReport;

namespace Pipeline.Functions.Tests.CostReport;

/// <summary>A month of plausible usage for three services, and the report built from it.</summary>
internal static class ReportSamples
{
    public static readonly DateOnly AsOf = new(2026, 11, 25);
    public static readonly DateTimeOffset GeneratedAt = new(2026, 11, 26, 7, 0, 5, TimeSpan.Zero);

    public static readonly PipelineSetup Setup = new()
    {
        ShardCount = 2,
        ArchiveBytesAtMonthStart = 20L << 30,
        DailyEmails = 1,
        DailyS3Gets = 2_000,
        DailyAthenaBytesScanned = 5L << 30,
        DailyExtraLambdaGbSeconds = 30,
        DailyExtraLambdaRequests = 300,
    };

    public static readonly ServiceGraphDiff GraphDiff = new()
    {
        From = "graphs/dt=2026-11-24/2026-11-24T06.json",
        To = "graphs/dt=2026-11-25/2026-11-25T06.json",
        AddedNodes = ["recommendations"],
        RemovedNodes = ["legacy-auth"],
        AddedEdges = [new GraphEdgeChange("checkout", "recommendations")],
        RemovedEdges = [new GraphEdgeChange("checkout", "legacy-auth")],
        Regressions = [new GraphRegression("checkout -> payments <db>", "p99 latency", "120 ms", "480 ms")],
    };

    /// <summary>Days 1..25 of November 2026; traffic grows a little each day, so the bars differ.</summary>
    public static UsageFold Usage(int days = 25)
    {
        var aggregator = new UsageAggregator();
        for (var day = 1; day <= days; day++)
        {
            var traces = 400_000L + (day * 8_000L);
            var head = traces / 10;
            var kept = new KeptByReason { Head = head, TailError = traces / 200, TailFault = traces / 500, TailThrottle = traces / 2000, TailSlow = traces / 400 };
            var record = new UsageRecord
            {
                Shard = "shardId-000000000000",
                FirstSequence = (day * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                LastSequence = ((day * 1000) + 999).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ArrivedAt = new DateTimeOffset(2026, 11, day, 12, 0, 0, TimeSpan.Zero),
                KinesisRecords = traces * 3,
                KinesisPayloadUnits = traces * 3,
                KinesisBilledKb = traces * 3,
                SegmentsIn = (traces * 3) + 40,
                SegmentsValid = traces * 3,
                SegmentsInvalid = 40,
                SegmentsKept = kept.Total * 3,
                TracesSeen = traces,
                TracesKept = kept.Total,
                KeptByReason = kept,
                BytesIn = traces * 3 * 900,
                BytesArchived = traces * 3 * 180,
                XRayPutCalls = kept.Total * 3 / 50,
                XRayDocuments = kept.Total * 3,
                LambdaDurationMs = 3_600_000,
                LambdaMemoryMb = 1024,
                S3Puts = 4_000,
                DecisionReads = traces * 9 / 10,
                DecisionWrites = kept.Total - head,
                ByOrigin = new OriginUsage
                {
                    XraySdkSegmentsIn = (traces * 2) + 40,
                    XraySdkSegmentsValid = traces * 2,
                    XraySdkSegmentsInvalid = 40,
                    OtelSpansIn = traces * 2,
                    OtelSpansValid = traces * 2,
                    OtelSegmentsValid = traces,
                },
                Services =
                [
                    new ServiceUsage { Name = "checkout", Segments = traces, Traces = traces, Kept = kept },
                    new ServiceUsage { Name = "payments", Segments = traces * 3 / 2, Traces = traces / 2, Kept = kept with { Head = head / 2, TailSlow = 0 } },
                    new ServiceUsage { Name = "search <beta>", Segments = traces / 2, Traces = traces / 2, Kept = new KeptByReason { Head = head / 2 } },
                ],
            };
            aggregator.Add(record);
        }

        return aggregator.Fold();
    }

    public static CostReportModel Model(ServiceGraphDiff? diff = null, int days = 25)
    {
        var usage = Usage(days);
        var cost = CostModel.ForMonth(PriceTable.Default, AsOf, usage.Days, Setup);
        return CostReportBuilder.Build(PriceTable.Default, cost, usage, GeneratedAt, diff ?? GraphDiff);
    }
}
