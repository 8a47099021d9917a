using Pipeline.Core.Usage;

namespace Pipeline.Core.Cost;

/// <summary>
/// Pure cost arithmetic over the price table and the daily usage totals. Free tiers apply to a
/// calendar month's whole quantity, so a projection is priced as a month, never day by day.
/// </summary>
public static class CostModel
{
    /// <summary>The projection's daily rate is the mean of this many most recent days.</summary>
    public const int DefaultRateWindowDays = 7;

    /// <summary>S3 and Kinesis bill binary gigabytes (2^30 bytes); Athena's TB is 2^40 bytes.</summary>
    public const decimal BytesPerGb = 1024m * 1024m * 1024m;

    public const decimal BytesPerTb = BytesPerGb * 1024m;
    public const decimal KbPerGb = 1024m * 1024m;
    private const decimal HoursPerDay = 24m;

    /// <summary>Prices a calendar month's quantities.</summary>
    public static CostBreakdown Price(PriceTable table, MonthQuantities q, PipelineSetup setup)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(setup);
        var p = table.Prices;
        var free = setup.FreeTiersAvailable;
        var lines = new List<CostLine>
        {
            Line(CostComponent.XRayTracesRecorded, CostGroup.XRay, p.XRayTracesRecorded, q.TracesRecorded, free),
            Line(CostComponent.XRayTracesRetrieved, CostGroup.XRay, p.XRayTracesRetrieved, q.TracesRetrieved, free),
        };
        if (setup.StreamMode == StreamMode.Provisioned)
        {
            lines.Add(Line(CostComponent.KinesisShardHours, CostGroup.Kinesis, p.KinesisShardHour, q.ShardHours, free));
            lines.Add(Line(CostComponent.KinesisPutPayloadUnits, CostGroup.Kinesis, p.KinesisPutPayloadUnits, q.PutPayloadUnits, free));
        }
        else
        {
            lines.Add(Line(CostComponent.KinesisStreamHours, CostGroup.Kinesis, p.KinesisOnDemandStreamHour, q.StreamHours, free));
            lines.Add(Line(CostComponent.KinesisDataIn, CostGroup.Kinesis, p.KinesisOnDemandDataInGb, q.DataInGb, free));
            lines.Add(Line(CostComponent.KinesisDataOut, CostGroup.Kinesis, p.KinesisOnDemandDataOutGb, q.DataOutGb, free));
        }

        lines.Add(Line(CostComponent.LambdaCompute, CostGroup.Lambda, p.LambdaArmGbSecond, q.LambdaGbSeconds, free));
        lines.Add(Line(CostComponent.LambdaRequests, CostGroup.Lambda, p.LambdaRequests, q.LambdaRequests, free));
        lines.Add(Line(CostComponent.S3Storage, CostGroup.S3, p.S3StandardGbMonth, q.S3GbMonths, free));
        lines.Add(Line(CostComponent.S3Puts, CostGroup.S3, p.S3PutRequests, q.S3Puts, free));
        lines.Add(Line(CostComponent.S3Gets, CostGroup.S3, p.S3GetRequests, q.S3Gets, free));
        lines.Add(Line(CostComponent.AthenaScanned, CostGroup.Athena, p.AthenaTbScanned, q.AthenaTbScanned, free));
        lines.Add(Line(CostComponent.SesEmails, CostGroup.Ses, p.SesEmails, q.Emails, free));

        var unpriced = new List<UnpricedLine>();
        void Add(CostComponent component, CostGroup group, Price price, string priceName, decimal quantity)
        {
            if (price.IsPriced)
            {
                lines.Add(Line(component, group, price, quantity, free));
            }
            else
            {
                unpriced.Add(new UnpricedLine(component, group, quantity, price.Unit, priceName));
            }
        }

        Add(CostComponent.DynamoDbWrites, CostGroup.DynamoDb, p.DynamoDbWriteRequestUnits, "dynamoDbWriteRequestUnits", q.DynamoDbWriteUnits);
        Add(CostComponent.DynamoDbReads, CostGroup.DynamoDb, p.DynamoDbReadRequestUnits, "dynamoDbReadRequestUnits", q.DynamoDbReadUnits);
        Add(CostComponent.LogsIngested, CostGroup.CloudWatch, p.CloudWatchLogsIngestedGb, "cloudWatchLogsIngestedGb", q.LogsIngestedGb);
        Add(CostComponent.LogsStored, CostGroup.CloudWatch, p.CloudWatchLogsStoredGbMonth, "cloudWatchLogsStoredGbMonth", q.LogsStoredGbMonths);
        Add(CostComponent.CloudWatchAlarms, CostGroup.CloudWatch, p.CloudWatchAlarmMetricMonths, "cloudWatchAlarmMetricMonths", q.AlarmMetricMonths);
        Add(CostComponent.CloudWatchDashboards, CostGroup.CloudWatch, p.CloudWatchDashboardMonths, "cloudWatchDashboardMonths", q.DashboardMonths);
        Add(CostComponent.SqsRequests, CostGroup.Sqs, p.SqsRequests, "sqsRequests", q.SqsRequests);
        Add(CostComponent.KmsRequests, CostGroup.Kms, p.KmsRequests, "kmsRequests", q.KmsRequests);
        return new CostBreakdown(lines, unpriced);
    }

    /// <summary>
    /// The alternative AWS offers X-Ray users now: every span to CloudWatch Transaction Search (the
    /// 1 % of spans indexed as trace summaries by default is free), retrievals unchanged, no
    /// pipeline. Unpriced until <c>transactionSearchSpansGb</c> has a price.
    /// </summary>
    public static CostBreakdown PriceAllToTransactionSearch(PriceTable table, MonthQuantities q, PipelineSetup setup)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(setup);
        var price = table.Prices.TransactionSearchSpansGb;
        return price.IsPriced
            ? new CostBreakdown([Line(CostComponent.TransactionSearchSpans, CostGroup.CloudWatch, price, q.SpansGb, setup.FreeTiersAvailable)])
            : new CostBreakdown([], [new UnpricedLine(CostComponent.TransactionSearchSpans, CostGroup.CloudWatch, q.SpansGb, price.Unit, "transactionSearchSpansGb")]);
    }

    /// <summary>
    /// The counterfactual: every trace seen recorded by X-Ray (retrievals unchanged), and no
    /// pipeline at all.
    /// </summary>
    public static CostBreakdown PriceAllToXRay(PriceTable table, MonthQuantities q, PipelineSetup setup)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(setup);
        var free = setup.FreeTiersAvailable;
        return new CostBreakdown(
        [
            Line(CostComponent.XRayTracesRecorded, CostGroup.XRay, table.Prices.XRayTracesRecorded, q.TracesSeen, free),
            Line(CostComponent.XRayTracesRetrieved, CostGroup.XRay, table.Prices.XRayTracesRetrieved, q.TracesRetrieved, free),
        ]);
    }

    /// <summary>
    /// Month-to-date through <paramref name="asOf"/> (inclusive) and the projection to the end of
    /// that month from the mean of the last <paramref name="rateWindowDays"/> days (fewer early in
    /// the month; days without usage count as zero). Usage of other months is ignored.
    /// </summary>
    public static MonthlyCost ForMonth(
        PriceTable table,
        DateOnly asOf,
        IEnumerable<DailyUsage> days,
        PipelineSetup setup,
        int rateWindowDays = DefaultRateWindowDays)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(days);
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentOutOfRangeException.ThrowIfLessThan(rateWindowDays, 1);

        var daysInMonth = DateTime.DaysInMonth(asOf.Year, asOf.Month);
        var elapsed = asOf.Day;
        var byDay = new Day[daysInMonth];
        foreach (var d in days)
        {
            if (d.Day.Year == asOf.Year && d.Day.Month == asOf.Month && d.Day <= asOf)
            {
                byDay[d.Day.Day - 1] = byDay[d.Day.Day - 1].Plus(Day.From(d));
            }
        }

        var window = Math.Min(rateWindowDays, elapsed);
        var rate = Day.Zero;
        for (var i = elapsed - window; i < elapsed; i++)
        {
            rate = rate.Plus(byDay[i]);
        }

        rate = rate.DividedBy(window);
        for (var i = elapsed; i < daysInMonth; i++)
        {
            byDay[i] = rate;
        }

        var mtdQuantities = Quantities(byDay.AsSpan(0, elapsed), daysInMonth, setup);
        var projectedQuantities = Quantities(byDay, daysInMonth, setup);
        return new MonthlyCost
        {
            Year = asOf.Year,
            Month = asOf.Month,
            AsOf = asOf,
            DaysElapsed = elapsed,
            DaysInMonth = daysInMonth,
            RateWindowDays = window,
            ArchiveBytesAtAsOf = setup.ArchiveBytesAtMonthStart + (long)byDay.Take(elapsed).Sum(d => d.BytesArchived),
            MonthToDateQuantities = mtdQuantities,
            ProjectedQuantities = projectedQuantities,
            MonthToDate = Price(table, mtdQuantities, setup),
            Projected = Price(table, projectedQuantities, setup),
            CounterfactualMonthToDate = PriceAllToXRay(table, mtdQuantities, setup),
            CounterfactualProjected = PriceAllToXRay(table, projectedQuantities, setup),
            TransactionSearchMonthToDate = PriceAllToTransactionSearch(table, mtdQuantities, setup),
            TransactionSearchProjected = PriceAllToTransactionSearch(table, projectedQuantities, setup),
        };
    }

    /// <summary>
    /// Quantities of the given consecutive days of a month (from its first day). Storage is
    /// billed on the average stored each day, so GB-months = Σ stored bytes per day / days in month.
    /// Log storage counts each day's log bytes for <see cref="PipelineSetup.LogRetentionDays"/> days,
    /// uncompressed (CloudWatch stores them compressed, so this is an upper bound) and from this
    /// month only (last month's logs still retained are not known to the report).
    /// </summary>
    private static MonthQuantities Quantities(ReadOnlySpan<Day> days, int daysInMonth, PipelineSetup setup)
    {
        var sum = Day.Zero;
        var stored = (decimal)setup.ArchiveBytesAtMonthStart;
        var storedByteDays = 0m;
        var logBytes = new decimal[days.Length];
        var logByteDays = 0m;
        var retention = Math.Max(1, setup.LogRetentionDays);
        for (var i = 0; i < days.Length; i++)
        {
            var d = days[i];
            sum = sum.Plus(d);
            stored += d.BytesArchived;
            storedByteDays += stored;
            logBytes[i] = (d.Invocations * setup.LogBytesPerIngestInvocation) + setup.DailyScheduledLogBytes;
            for (var j = Math.Max(0, i - retention + 1); j <= i; j++)
            {
                logByteDays += logBytes[j];
            }
        }

        var n = days.Length;
        var hours = n * HoursPerDay;
        return new MonthQuantities
        {
            TracesSeen = sum.TracesSeen,
            TracesRecorded = sum.TracesKept,
            TracesRetrieved = n * setup.DailyXRayTracesRetrieved,
            ShardHours = setup.StreamMode == StreamMode.Provisioned ? setup.ShardCount * hours : 0m,
            PutPayloadUnits = sum.PayloadUnits,
            StreamHours = setup.StreamMode == StreamMode.OnDemand ? hours : 0m,
            DataInGb = sum.BilledKb / KbPerGb,
            DataOutGb = sum.BytesIn / BytesPerGb,
            LambdaGbSeconds = sum.LambdaGbSeconds + (n * setup.DailyExtraLambdaGbSeconds),
            LambdaRequests = sum.Invocations + (n * setup.DailyExtraLambdaRequests),
            S3GbMonths = storedByteDays / BytesPerGb / daysInMonth,
            S3Puts = sum.S3Puts,
            S3Gets = n * setup.DailyS3Gets,
            AthenaTbScanned = n * setup.DailyAthenaBytesScanned / BytesPerTb,
            Emails = n * setup.DailyEmails,
            DynamoDbWriteUnits = sum.DecisionWrites * StackFootprint.WriteRequestUnitsPerDecisionWrite,
            DynamoDbReadUnits = sum.DecisionReads * StackFootprint.ReadRequestUnitsPerDecisionRead,
            LogsIngestedGb = logBytes.Sum() / BytesPerGb,
            LogsStoredGbMonths = logByteDays / BytesPerGb / daysInMonth,
            AlarmMetricMonths = (decimal)setup.AlarmMetrics * n / daysInMonth,
            DashboardMonths = (decimal)setup.Dashboards * n / daysInMonth,
            SqsRequests = n * setup.DailyFailureQueueMessages,
            KmsRequests = hours * setup.StreamCredentials * StackFootprint.KmsRequestsPerCredentialHour,
            SpansGb = sum.BytesIn / BytesPerGb,
        };
    }

    private static CostLine Line(CostComponent component, CostGroup group, Price price, decimal quantity, bool freeTier) =>
        new(
            component,
            group,
            quantity,
            freeTier ? price.Billable(quantity) : quantity,
            price.Unit,
            freeTier ? price.Cost(quantity) : price.CostWithoutFreeTier(quantity));

    /// <summary>The day the daily 07:00 UTC run reports on: the last complete UTC day before it.</summary>
    public static DateOnly ReportDayFor(DateTimeOffset scheduledTime) =>
        DateOnly.FromDateTime(scheduledTime.UtcDateTime).AddDays(-1);

    /// <summary>The days whose usage a report through <paramref name="asOf"/> reads: its month up to it.</summary>
    public static IEnumerable<DateOnly> MonthThrough(DateOnly asOf)
    {
        for (var day = new DateOnly(asOf.Year, asOf.Month, 1); day <= asOf; day = day.AddDays(1))
        {
            yield return day;
        }
    }

    /// <summary>One day's usage as decimals, so a mean day can stand in for the days still to come.</summary>
    private readonly record struct Day(
        decimal TracesSeen,
        decimal TracesKept,
        decimal PayloadUnits,
        decimal BilledKb,
        decimal BytesIn,
        decimal BytesArchived,
        decimal LambdaGbSeconds,
        decimal Invocations,
        decimal S3Puts,
        decimal DecisionReads,
        decimal DecisionWrites)
    {
        public static Day Zero => default;

        public static Day From(DailyUsage d) => new(
            d.TracesSeen,
            d.TracesKept,
            d.KinesisPayloadUnits,
            d.KinesisBilledKb,
            d.BytesIn,
            d.BytesArchived,
            d.LambdaGbSeconds,
            d.Invocations,
            d.S3Puts,
            d.DecisionReads,
            d.DecisionWrites);

        public Day Plus(Day o) => new(
            TracesSeen + o.TracesSeen,
            TracesKept + o.TracesKept,
            PayloadUnits + o.PayloadUnits,
            BilledKb + o.BilledKb,
            BytesIn + o.BytesIn,
            BytesArchived + o.BytesArchived,
            LambdaGbSeconds + o.LambdaGbSeconds,
            Invocations + o.Invocations,
            S3Puts + o.S3Puts,
            DecisionReads + o.DecisionReads,
            DecisionWrites + o.DecisionWrites);

        // Divide rather than multiply by 1/k: 700 / 7 is exactly 100, 700 * (1/7) is not.
        public Day DividedBy(decimal k) => new(
            TracesSeen / k,
            TracesKept / k,
            PayloadUnits / k,
            BilledKb / k,
            BytesIn / k,
            BytesArchived / k,
            LambdaGbSeconds / k,
            Invocations / k,
            S3Puts / k,
            DecisionReads / k,
            DecisionWrites / k);
    }
}
