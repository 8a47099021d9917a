using Pipeline.Core.Graph;
using System.Globalization;
using Pipeline.Core.Cost;
using Pipeline.Core.Usage;

namespace Pipeline.Functions.CostReport;

/// <summary>Turns a month's cost and usage into the report model every renderer reads.</summary>
public static class CostReportBuilder
{
    /// <summary>Rows in the per-service table (mail clients choke on huge tables).</summary>
    public const int MaxServiceRows = 25;

    public const int TopTalkerCount = 5;

    /// <summary>Entries shown per graph-diff list; the rest are counted in a note.</summary>
    public const int MaxGraphDiffItems = 20;

    public static CostReportModel Build(
        PriceTable prices,
        MonthlyCost cost,
        UsageFold usage,
        DateTimeOffset generatedAt,
        ServiceGraphDiff? graphDiff = null)
    {
        ArgumentNullException.ThrowIfNull(prices);
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(usage);

        var monthDays = usage.Days
            .Where(d => d.Day.Year == cost.Year && d.Day.Month == cost.Month && d.Day <= cost.AsOf)
            .OrderBy(d => d.Day)
            .ToArray();
        var notes = new List<string>();
        var kept = monthDays.Aggregate(new KeptByReason(), (sum, d) => sum.Plus(d.KeptByReason));
        var tracesSeen = monthDays.Sum(d => d.TracesSeen);
        var origin = monthDays.Aggregate(new OriginUsage(), (sum, d) => sum.Plus(d.ByOrigin));
        var traffic = new TrafficTotals(
            monthDays.Sum(d => d.SegmentsIn),
            monthDays.Sum(d => d.SegmentsValid),
            monthDays.Sum(d => d.SegmentsInvalid),
            monthDays.Sum(d => d.SegmentsKept),
            tracesSeen,
            monthDays.Sum(d => d.TracesKept),
            Ratios(kept, tracesSeen),
            new OriginTotals(
                origin.XraySdkSegmentsIn,
                origin.XraySdkSegmentsValid,
                origin.XraySdkSegmentsInvalid,
                origin.OtelSpansIn,
                origin.OtelSpansValid,
                origin.OtelSpansInvalid,
                origin.OtelSegmentsValid));

        var services = monthDays
            .SelectMany(d => d.Services)
            .GroupBy(s => s.Name, StringComparer.Ordinal)
            .Select(g => g.Aggregate((a, b) => a.Plus(b)))
            .OrderByDescending(s => s.Segments)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .ToArray();
        var totalKept = services.Sum(s => s.Kept.Total);
        var totalSegments = services.Sum(s => s.Segments);
        var xrayRecorded = cost.MonthToDate.ByComponent(CostComponent.XRayTracesRecorded);
        var serviceRows = services
            .Take(MaxServiceRows)
            .Select(s =>
            {
                var share = totalKept == 0 ? 0m : (decimal)s.Kept.Total / totalKept;
                return new ServiceRow(s.Name, s.Segments, s.Traces, s.Kept.Total, Ratios(s.Kept, s.Traces), share, share * xrayRecorded);
            })
            .ToArray();
        var topTalkers = services
            .Take(TopTalkerCount)
            .Select(s => new TopTalker(s.Name, s.Segments, totalSegments == 0 ? 0m : (decimal)s.Segments / totalSegments))
            .ToArray();

        foreach (var (reason, count) in usage.Skipped.OrderBy(s => s.Key))
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{count} usage record(s) not counted: {Describe(reason)}."));
        }

        var projectedByComponent = cost.Projected.Lines.ToDictionary(l => l.Component);
        var costs = cost.MonthToDate.Lines
            .Select(l =>
            {
                var projected = projectedByComponent[l.Component];
                return new CostRow(l.Component, l.Group, Label(l.Component), l.Unit, l.Quantity, l.Billable, l.Usd, projected.Quantity, projected.Usd);
            })
            .ToArray();
        var byGroup = Enum.GetValues<CostGroup>()
            .Where(g => cost.MonthToDate.Lines.Any(l => l.Group == g))
            .Select(g => new GroupCost(g, Label(g), cost.MonthToDate.ByGroup(g), cost.Projected.ByGroup(g)))
            .ToArray();
        var projectedUnpriced = cost.Projected.Unpriced.ToDictionary(u => u.Component);
        var unpriced = cost.MonthToDate.Unpriced
            .Select(u => new UnpricedRow(u.Component, u.Group, Label(u.Component), u.Unit, u.Quantity, projectedUnpriced[u.Component].Quantity, u.PriceName))
            .ToArray();

        var monthName = new DateOnly(cost.Year, cost.Month, 1).ToString("MMMM yyyy", CultureInfo.InvariantCulture);
        return new CostReportModel
        {
            Title = $"X-Ray trace pipeline cost: {monthName}",
            Year = cost.Year,
            Month = cost.Month,
            AsOf = cost.AsOf,
            GeneratedAt = generatedAt.ToUniversalTime(),
            DaysElapsed = cost.DaysElapsed,
            DaysInMonth = cost.DaysInMonth,
            RateWindowDays = cost.RateWindowDays,
            PriceTable = new PriceTableInfo(prices.TableVersion, prices.RetrievedOn, prices.Region, prices.Currency),
            MonthToDate = Summary(cost.MonthToDate, cost.CounterfactualMonthToDate, cost.TransactionSearchMonthToDate),
            Projected = Summary(cost.Projected, cost.CounterfactualProjected, cost.TransactionSearchProjected),
            Costs = costs,
            Unpriced = unpriced,
            CostByGroup = byGroup,
            Traffic = traffic,
            ArchiveBytesAtAsOf = cost.ArchiveBytesAtAsOf,
            Services = serviceRows,
            ServicesOmitted = Math.Max(0, services.Length - MaxServiceRows),
            TopTalkers = topTalkers,
            Daily = monthDays.Select(d => new DailyPoint(d.Day, d.TracesSeen, d.TracesKept, d.SegmentsIn)).ToArray(),
            GraphDiff = graphDiff is null ? null : Bound(graphDiff, notes),
            Notes = notes,
        };
    }

    public static string Label(CostComponent component) => component switch
    {
        CostComponent.XRayTracesRecorded => "X-Ray traces recorded",
        CostComponent.XRayTracesRetrieved => "X-Ray traces retrieved/scanned",
        CostComponent.KinesisShardHours => "Kinesis shard-hours",
        CostComponent.KinesisPutPayloadUnits => "Kinesis PUT payload units",
        CostComponent.KinesisStreamHours => "Kinesis on-demand stream-hours",
        CostComponent.KinesisDataIn => "Kinesis on-demand data in",
        CostComponent.KinesisDataOut => "Kinesis on-demand data out",
        CostComponent.LambdaCompute => "Lambda compute (arm64)",
        CostComponent.LambdaRequests => "Lambda requests",
        CostComponent.S3Storage => "S3 Standard storage",
        CostComponent.S3Puts => "S3 PUT requests",
        CostComponent.S3Gets => "S3 GET requests",
        CostComponent.AthenaScanned => "Athena data scanned",
        CostComponent.SesEmails => "SES emails",
        CostComponent.DynamoDbWrites => "DynamoDB decision table writes",
        CostComponent.DynamoDbReads => "DynamoDB decision table reads",
        CostComponent.LogsIngested => "CloudWatch Logs ingested (functions' logs and EMF)",
        CostComponent.LogsStored => "CloudWatch Logs stored",
        CostComponent.CloudWatchAlarms => "CloudWatch alarms",
        CostComponent.CloudWatchDashboards => "CloudWatch dashboard",
        CostComponent.SqsRequests => "SQS on-failure queue requests",
        CostComponent.KmsRequests => "KMS requests (encrypted stream)",
        CostComponent.TransactionSearchSpans => "Transaction Search spans ingested",
        _ => component.ToString(),
    };

    public static string Label(CostGroup group) => group switch
    {
        CostGroup.XRay => "X-Ray",
        CostGroup.Kinesis => "Kinesis",
        CostGroup.Lambda => "Lambda",
        CostGroup.S3 => "S3",
        CostGroup.Athena => "Athena",
        CostGroup.Ses => "SES",
        CostGroup.DynamoDb => "DynamoDB",
        CostGroup.CloudWatch => "CloudWatch",
        CostGroup.Sqs => "SQS",
        CostGroup.Kms => "KMS",
        _ => group.ToString(),
    };

    private static string Describe(UsageSkip reason) => reason switch
    {
        UsageSkip.Malformed => "unreadable or not a usage record",
        UsageSkip.UnsupportedVersion => "written by a newer version",
        UsageSkip.BadSequence => "invalid sequence numbers",
        UsageSkip.CoveredByRetry => "superseded by a retried batch",
        UsageSkip.PartialOverlap => "overlapping another batch in part",
        UsageSkip.OverLimit => "past the record limit",
        UsageSkip.WrongPartition => "stored under another day's partition",
        _ => reason.ToString(),
    };

    private static CostSummary Summary(CostBreakdown actual, CostBreakdown allToXRay, CostBreakdown allToTransactionSearch) =>
        new(
            actual.XRay,
            actual.Pipeline,
            actual.Total,
            allToXRay.Total,
            allToXRay.Total - actual.Total,
            allToTransactionSearch.Unpriced.Count == 0 ? allToTransactionSearch.Total : null);

    private static KeptRatios Ratios(KeptByReason kept, long traces)
    {
        if (traces == 0)
        {
            return new KeptRatios(0m, 0m, 0m, 0m, 0m);
        }

        decimal t = traces;
        return new KeptRatios(kept.Head / t, kept.TailError / t, kept.TailFault / t, kept.TailThrottle / t, kept.TailSlow / t);
    }

    private static ServiceGraphDiff Bound(ServiceGraphDiff diff, List<string> notes)
    {
        var cut = 0;
        IReadOnlyList<T> Take<T>(IReadOnlyList<T> items)
        {
            cut += Math.Max(0, items.Count - MaxGraphDiffItems);
            return items.Take(MaxGraphDiffItems).ToArray();
        }

        var bounded = diff with
        {
            AddedNodes = Take(diff.AddedNodes),
            RemovedNodes = Take(diff.RemovedNodes),
            AddedEdges = Take(diff.AddedEdges),
            RemovedEdges = Take(diff.RemovedEdges),
            Regressions = Take(diff.Regressions),
        };
        if (cut > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{cut} more service graph change(s) not shown."));
        }

        return bounded;
    }
}
