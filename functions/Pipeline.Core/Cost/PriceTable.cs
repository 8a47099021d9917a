using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Core.Cost;

/// <summary>
/// One list price: <see cref="Usd"/> for every <see cref="Per"/> units past <see cref="FreePerMonth"/>.
/// <see cref="Usd"/> is absent (null) for a dimension whose price could not be confirmed on its AWS
/// pricing page when the table was dated: the report then shows the quantity but prices it only
/// once the user sets <c>usd</c> in an override (docs/cost-report.md).
/// </summary>
public sealed record Price
{
    public decimal? Usd { get; init; }
    public required decimal Per { get; init; }
    public required string Unit { get; init; }

    /// <summary>Units free each calendar month (0 when the free tier is absent or only for new accounts).</summary>
    public decimal FreePerMonth { get; init; }

    /// <summary>Where the figure was taken from.</summary>
    public required string Source { get; init; }

    /// <summary>True when the table (or the user's override) gives a price.</summary>
    [JsonIgnore]
    public bool IsPriced => Usd is not null;

    /// <summary>Units past the monthly free tier; <paramref name="monthQuantity"/> is the whole calendar month's.</summary>
    public decimal Billable(decimal monthQuantity) => Math.Max(0m, monthQuantity - FreePerMonth);

    /// <summary>Exact cost of a calendar month's quantity, free tier applied; never rounded.</summary>
    public decimal Cost(decimal monthQuantity) => Billable(monthQuantity) * UsdOrThrow() / Per;

    /// <summary>Exact cost with no free tier (marginal cost at scale).</summary>
    public decimal CostWithoutFreeTier(decimal quantity) => quantity * UsdOrThrow() / Per;

    private decimal UsdOrThrow() =>
        Usd ?? throw new InvalidOperationException($"The price per {Per} {Unit} is not set (source: {Source}).");
}

/// <summary>Every price the cost model uses; all are required in the default table.</summary>
public sealed record PriceList
{
    [JsonPropertyName("xrayTracesRecorded")]
    public required Price XRayTracesRecorded { get; init; }
    [JsonPropertyName("xrayTracesRetrieved")]
    public required Price XRayTracesRetrieved { get; init; }
    public required Price KinesisShardHour { get; init; }
    public required Price KinesisPutPayloadUnits { get; init; }
    public required Price KinesisOnDemandStreamHour { get; init; }
    public required Price KinesisOnDemandDataInGb { get; init; }
    public required Price KinesisOnDemandDataOutGb { get; init; }
    public required Price LambdaArmGbSecond { get; init; }
    public required Price LambdaRequests { get; init; }
    public required Price S3StandardGbMonth { get; init; }
    public required Price S3PutRequests { get; init; }
    public required Price S3GetRequests { get; init; }
    public required Price AthenaTbScanned { get; init; }
    public required Price SesEmails { get; init; }

    // Dimensions added 2026-12 (issue 16 item 7, issue 17 item 5). Their AWS pricing pages name the
    // dimension and the free tier, but the stored copies the table was checked against did not show
    // the figure, so the default table leaves usd unset (see the note in price-table.json).
    public required Price DynamoDbWriteRequestUnits { get; init; }
    public required Price DynamoDbReadRequestUnits { get; init; }
    public required Price CloudWatchLogsIngestedGb { get; init; }
    public required Price CloudWatchLogsStoredGbMonth { get; init; }
    public required Price CloudWatchAlarmMetricMonths { get; init; }
    public required Price CloudWatchDashboardMonths { get; init; }
    public required Price SqsRequests { get; init; }
    public required Price KmsRequests { get; init; }

    /// <summary>The alternative offered to X-Ray users: every span to CloudWatch Transaction Search.</summary>
    public required Price TransactionSearchSpansGb { get; init; }

    internal IEnumerable<(string Name, Price Price)> All() =>
    [
        (nameof(XRayTracesRecorded), XRayTracesRecorded),
        (nameof(XRayTracesRetrieved), XRayTracesRetrieved),
        (nameof(KinesisShardHour), KinesisShardHour),
        (nameof(KinesisPutPayloadUnits), KinesisPutPayloadUnits),
        (nameof(KinesisOnDemandStreamHour), KinesisOnDemandStreamHour),
        (nameof(KinesisOnDemandDataInGb), KinesisOnDemandDataInGb),
        (nameof(KinesisOnDemandDataOutGb), KinesisOnDemandDataOutGb),
        (nameof(LambdaArmGbSecond), LambdaArmGbSecond),
        (nameof(LambdaRequests), LambdaRequests),
        (nameof(S3StandardGbMonth), S3StandardGbMonth),
        (nameof(S3PutRequests), S3PutRequests),
        (nameof(S3GetRequests), S3GetRequests),
        (nameof(AthenaTbScanned), AthenaTbScanned),
        (nameof(SesEmails), SesEmails),
        (nameof(DynamoDbWriteRequestUnits), DynamoDbWriteRequestUnits),
        (nameof(DynamoDbReadRequestUnits), DynamoDbReadRequestUnits),
        (nameof(CloudWatchLogsIngestedGb), CloudWatchLogsIngestedGb),
        (nameof(CloudWatchLogsStoredGbMonth), CloudWatchLogsStoredGbMonth),
        (nameof(CloudWatchAlarmMetricMonths), CloudWatchAlarmMetricMonths),
        (nameof(CloudWatchDashboardMonths), CloudWatchDashboardMonths),
        (nameof(SqsRequests), SqsRequests),
        (nameof(KmsRequests), KmsRequests),
        (nameof(TransactionSearchSpansGb), TransactionSearchSpansGb),
    ];
}

/// <summary>
/// A dated, versioned price table. The default is <c>Cost/price-table.json</c>, embedded in
/// this assembly; a user overrides it with a document of the same shape in which every field is
/// optional (the handler reads the file or variable: Core only parses text).
/// </summary>
public sealed record PriceTable
{
    private const string ResourceName = "Pipeline.Core.Cost.price-table.json";
    private static readonly Lazy<PriceTable> LazyDefault = new(LoadDefault);

    public required string TableVersion { get; init; }
    public required DateOnly RetrievedOn { get; init; }
    public required string Region { get; init; }
    public required string Currency { get; init; }
    public string? Note { get; init; }
    public required PriceList Prices { get; init; }

    /// <summary>The table shipped with the code.</summary>
    public static PriceTable Default => LazyDefault.Value;

    /// <summary>Parses a complete table; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static PriceTable Parse(string json)
    {
        PriceTable? table;
        try
        {
            table = JsonSerializer.Deserialize(json, CostJsonContext.Default.PriceTable);
        }
        catch (JsonException e)
        {
            throw new FormatException($"Price table is not valid: {e.Message}", e);
        }

        return Validate(table ?? throw new FormatException("Price table is empty (JSON null)."));
    }

    /// <summary>
    /// This table with the entries of <paramref name="overrideJson"/> replacing its own; an
    /// entry may itself be partial (e.g. only <c>usd</c>). Unknown names are refused so a typo
    /// cannot silently leave a price at its default.
    /// </summary>
    public PriceTable WithOverride(string overrideJson)
    {
        PriceTableOverride? o;
        try
        {
            o = JsonSerializer.Deserialize(overrideJson, CostJsonContext.Default.PriceTableOverride);
        }
        catch (JsonException e)
        {
            throw new FormatException($"Price table override is not valid: {e.Message}", e);
        }

        if (o is null)
        {
            throw new FormatException("Price table override is empty (JSON null).");
        }

        var p = o.Prices;
        var merged = this with
        {
            TableVersion = o.TableVersion ?? TableVersion + "+override",
            RetrievedOn = o.RetrievedOn ?? RetrievedOn,
            Region = o.Region ?? Region,
            Currency = o.Currency ?? Currency,
            Note = o.Note ?? Note,
            Prices = p is null ? Prices : new PriceList
            {
                XRayTracesRecorded = Merge(Prices.XRayTracesRecorded, p.XRayTracesRecorded),
                XRayTracesRetrieved = Merge(Prices.XRayTracesRetrieved, p.XRayTracesRetrieved),
                KinesisShardHour = Merge(Prices.KinesisShardHour, p.KinesisShardHour),
                KinesisPutPayloadUnits = Merge(Prices.KinesisPutPayloadUnits, p.KinesisPutPayloadUnits),
                KinesisOnDemandStreamHour = Merge(Prices.KinesisOnDemandStreamHour, p.KinesisOnDemandStreamHour),
                KinesisOnDemandDataInGb = Merge(Prices.KinesisOnDemandDataInGb, p.KinesisOnDemandDataInGb),
                KinesisOnDemandDataOutGb = Merge(Prices.KinesisOnDemandDataOutGb, p.KinesisOnDemandDataOutGb),
                LambdaArmGbSecond = Merge(Prices.LambdaArmGbSecond, p.LambdaArmGbSecond),
                LambdaRequests = Merge(Prices.LambdaRequests, p.LambdaRequests),
                S3StandardGbMonth = Merge(Prices.S3StandardGbMonth, p.S3StandardGbMonth),
                S3PutRequests = Merge(Prices.S3PutRequests, p.S3PutRequests),
                S3GetRequests = Merge(Prices.S3GetRequests, p.S3GetRequests),
                AthenaTbScanned = Merge(Prices.AthenaTbScanned, p.AthenaTbScanned),
                SesEmails = Merge(Prices.SesEmails, p.SesEmails),
                DynamoDbWriteRequestUnits = Merge(Prices.DynamoDbWriteRequestUnits, p.DynamoDbWriteRequestUnits),
                DynamoDbReadRequestUnits = Merge(Prices.DynamoDbReadRequestUnits, p.DynamoDbReadRequestUnits),
                CloudWatchLogsIngestedGb = Merge(Prices.CloudWatchLogsIngestedGb, p.CloudWatchLogsIngestedGb),
                CloudWatchLogsStoredGbMonth = Merge(Prices.CloudWatchLogsStoredGbMonth, p.CloudWatchLogsStoredGbMonth),
                CloudWatchAlarmMetricMonths = Merge(Prices.CloudWatchAlarmMetricMonths, p.CloudWatchAlarmMetricMonths),
                CloudWatchDashboardMonths = Merge(Prices.CloudWatchDashboardMonths, p.CloudWatchDashboardMonths),
                SqsRequests = Merge(Prices.SqsRequests, p.SqsRequests),
                KmsRequests = Merge(Prices.KmsRequests, p.KmsRequests),
                TransactionSearchSpansGb = Merge(Prices.TransactionSearchSpansGb, p.TransactionSearchSpansGb),
            },
        };
        return Validate(merged);
    }

    public string ToJson() => JsonSerializer.Serialize(this, CostJsonContext.Default.PriceTable);

    private static Price Merge(Price current, PriceOverride? o) => o is null ? current : new Price
    {
        Usd = o.Usd ?? current.Usd,
        Per = o.Per ?? current.Per,
        Unit = o.Unit ?? current.Unit,
        FreePerMonth = o.FreePerMonth ?? current.FreePerMonth,
        Source = o.Source ?? "user override",
    };

    private static PriceTable Validate(PriceTable table)
    {
        foreach (var (name, price) in table.Prices.All())
        {
            if (price is null)
            {
                throw new FormatException($"Price table entry '{name}' is missing.");
            }

            if (price.Usd is < 0 || price.Per <= 0 || price.FreePerMonth < 0)
            {
                throw new FormatException(
                    $"Price table entry '{name}' needs usd >= 0, per > 0 and freePerMonth >= 0 (got {price.Usd?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unset"}, {price.Per}, {price.FreePerMonth}).");
            }
        }

        return table;
    }

    private static PriceTable LoadDefault()
    {
        using var stream = typeof(PriceTable).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing from the build.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }
}

/// <summary>The override document: the price table's shape with every field optional.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PriceTableOverride
{
    public string? TableVersion { get; init; }
    public DateOnly? RetrievedOn { get; init; }
    public string? Region { get; init; }
    public string? Currency { get; init; }
    public string? Note { get; init; }
    public PriceListOverride? Prices { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PriceListOverride
{
    [JsonPropertyName("xrayTracesRecorded")]
    public PriceOverride? XRayTracesRecorded { get; init; }
    [JsonPropertyName("xrayTracesRetrieved")]
    public PriceOverride? XRayTracesRetrieved { get; init; }
    public PriceOverride? KinesisShardHour { get; init; }
    public PriceOverride? KinesisPutPayloadUnits { get; init; }
    public PriceOverride? KinesisOnDemandStreamHour { get; init; }
    public PriceOverride? KinesisOnDemandDataInGb { get; init; }
    public PriceOverride? KinesisOnDemandDataOutGb { get; init; }
    public PriceOverride? LambdaArmGbSecond { get; init; }
    public PriceOverride? LambdaRequests { get; init; }
    public PriceOverride? S3StandardGbMonth { get; init; }
    public PriceOverride? S3PutRequests { get; init; }
    public PriceOverride? S3GetRequests { get; init; }
    public PriceOverride? AthenaTbScanned { get; init; }
    public PriceOverride? SesEmails { get; init; }
    public PriceOverride? DynamoDbWriteRequestUnits { get; init; }
    public PriceOverride? DynamoDbReadRequestUnits { get; init; }
    public PriceOverride? CloudWatchLogsIngestedGb { get; init; }
    public PriceOverride? CloudWatchLogsStoredGbMonth { get; init; }
    public PriceOverride? CloudWatchAlarmMetricMonths { get; init; }
    public PriceOverride? CloudWatchDashboardMonths { get; init; }
    public PriceOverride? SqsRequests { get; init; }
    public PriceOverride? KmsRequests { get; init; }
    public PriceOverride? TransactionSearchSpansGb { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PriceOverride
{
    public decimal? Usd { get; init; }
    public decimal? Per { get; init; }
    public string? Unit { get; init; }
    public decimal? FreePerMonth { get; init; }
    public string? Source { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true,
    AllowTrailingCommas = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    WriteIndented = true,
    MaxDepth = 8)]
[JsonSerializable(typeof(PriceTable))]
[JsonSerializable(typeof(PriceTableOverride))]
internal sealed partial class CostJsonContext : JsonSerializerContext;
