using System.Text.Json.Serialization;
using Pipeline.Core.Cost;
using Pipeline.Core.Graph;

namespace Pipeline.Functions.CostReport;

/// <summary>
/// Everything a cost report shows, computed once so that the HTML, text, JSON and chart all say
/// the same thing. Amounts are exact decimals; the renderers round.
/// </summary>
public sealed record CostReportModel
{
    public required string Title { get; init; }
    public required int Year { get; init; }
    public required int Month { get; init; }
    public required DateOnly AsOf { get; init; }
    public required DateTimeOffset GeneratedAt { get; init; }
    public required int DaysElapsed { get; init; }
    public required int DaysInMonth { get; init; }
    public required int RateWindowDays { get; init; }
    public required PriceTableInfo PriceTable { get; init; }
    public required CostSummary MonthToDate { get; init; }
    public required CostSummary Projected { get; init; }
    public required IReadOnlyList<CostRow> Costs { get; init; }

    /// <summary>Dimensions the stack bills that have no price in the table: quantities only, in no sum.</summary>
    public IReadOnlyList<UnpricedRow> Unpriced { get; init; } = [];

    /// <summary>Groups with at least one priced line (the chart's bars).</summary>
    public required IReadOnlyList<GroupCost> CostByGroup { get; init; }
    public required TrafficTotals Traffic { get; init; }

    /// <summary>Estimated archive size after <see cref="AsOf"/>; the next month's report starts from it.</summary>
    public required long ArchiveBytesAtAsOf { get; init; }
    public required IReadOnlyList<ServiceRow> Services { get; init; }

    /// <summary>Services past <see cref="CostReportBuilder.MaxServiceRows"/>, left out of <see cref="Services"/>.</summary>
    public int ServicesOmitted { get; init; }

    public required IReadOnlyList<TopTalker> TopTalkers { get; init; }
    public required IReadOnlyList<DailyPoint> Daily { get; init; }
    public ServiceGraphDiff? GraphDiff { get; init; }

    /// <summary>Data-quality notes (e.g. usage records skipped, and why).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

public sealed record PriceTableInfo(string Version, DateOnly RetrievedOn, string Region, string Currency);

/// <summary>
/// The headline: what X-Ray and the pipeline cost, against all traces to X-Ray, and against every
/// span to CloudWatch Transaction Search (<see cref="AllToTransactionSearch"/> null while that price is not set).
/// </summary>
public sealed record CostSummary(decimal XRay, decimal Pipeline, decimal Total, decimal AllToXRay, decimal Savings, decimal? AllToTransactionSearch = null)
{
    /// <summary>Savings as a fraction of the all-to-X-Ray cost (0 when that is 0).</summary>
    public decimal SavingsFraction => AllToXRay == 0m ? 0m : Savings / AllToXRay;
}

public sealed record CostRow(
    CostComponent Component,
    CostGroup Group,
    string Label,
    string Unit,
    decimal QuantityMonthToDate,
    decimal BillableMonthToDate,
    decimal UsdMonthToDate,
    decimal QuantityProjected,
    decimal UsdProjected);

public sealed record GroupCost(CostGroup Group, string Label, decimal UsdMonthToDate, decimal UsdProjected);

/// <param name="PriceName">The price table entry to set (<c>prices.&lt;name&gt;.usd</c>).</param>
public sealed record UnpricedRow(
    CostComponent Component,
    CostGroup Group,
    string Label,
    string Unit,
    decimal QuantityMonthToDate,
    decimal QuantityProjected,
    string PriceName);

/// <summary>Intake by SDK generation, month to date: X-Ray SDK segment documents and OpenTelemetry spans.</summary>
public sealed record OriginTotals(
    long XraySdkSegmentsIn,
    long XraySdkSegmentsValid,
    long XraySdkSegmentsInvalid,
    long OtelSpansIn,
    long OtelSpansValid,
    long OtelSpansInvalid,
    long OtelSegmentsValid);

public sealed record TrafficTotals(
    long SegmentsIn,
    long SegmentsValid,
    long SegmentsInvalid,
    long SegmentsKept,
    long TracesSeen,
    long TracesKept,
    KeptRatios KeptRatio,
    OriginTotals? ByOrigin = null);

/// <summary>Kept traces by reason, each as a fraction of the traces seen.</summary>
public sealed record KeptRatios(decimal Head, decimal TailError, decimal TailFault, decimal TailThrottle, decimal TailSlow)
{
    [JsonIgnore]
    public decimal Total => Head + TailError + TailFault + TailThrottle + TailSlow;
}

/// <summary>
/// One service over the month to date. <see cref="XRayCostShare"/> splits the X-Ray recorded
/// cost by the service's share of kept traces (a trace through two services counts for both).
/// </summary>
public sealed record ServiceRow(
    string Name,
    long Segments,
    long Traces,
    long KeptTraces,
    KeptRatios KeptRatio,
    decimal XRayCostShare,
    decimal XRayCostUsd);

public sealed record TopTalker(string Name, long Segments, decimal SegmentShare);

public sealed record DailyPoint(DateOnly Day, long TracesSeen, long TracesKept, long SegmentsIn);
