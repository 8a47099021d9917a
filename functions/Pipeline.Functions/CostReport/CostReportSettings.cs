using Pipeline.Core.Cost;
using Pipeline.Functions.Configuration;

namespace Pipeline.Functions.CostReport;

/// <summary>Where a price override comes from (the <c>PRICE_TABLE</c> variable).</summary>
public enum PriceTableSourceKind
{
    /// <summary>Unset or empty: the table embedded in Pipeline.Core.</summary>
    BuiltIn,
    /// <summary>Starts with <c>{</c>: the override JSON itself.</summary>
    Inline,
    /// <summary><c>s3://bucket/key</c>: read by the handler at init.</summary>
    S3,
    /// <summary>Anything else: a local file path (local mode and the CLI).</summary>
    File,
}

/// <summary>
/// The cost-report function's configuration, bound and checked once at init from the variables
/// <see cref="FunctionContract"/> lists for it. Every problem is reported by variable name.
/// </summary>
public sealed record CostReportSettings
{
    public required string ArchiveBucket { get; init; }
    public required ReportMailSettings Mail { get; init; }
    public required PriceTableSourceKind PriceTableSource { get; init; }

    /// <summary>The inline JSON, the s3:// URI or the file path; empty for the built-in table.</summary>
    public string PriceTableValue { get; init; } = "";

    /// <summary>The inline override applied, or the built-in table; S3/file overrides are applied by the handler.</summary>
    public required PriceTable Prices { get; init; }

    /// <summary>Binds and validates; throws <see cref="InvalidOperationException"/> listing every bad variable.</summary>
    public static CostReportSettings FromEnvironment(Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        var problems = new List<string>();
        var bucket = variable(EnvironmentNames.ArchiveBucket)?.Trim() ?? "";
        if (bucket.Length == 0)
        {
            problems.Add($"{EnvironmentNames.ArchiveBucket} is not set (the archive bucket holding usage/ and graphs/).");
        }

        var mail = new ReportMailSettings
        {
            From = variable(EnvironmentNames.ReportSender)?.Trim() ?? "",
            To = (variable(EnvironmentNames.ReportRecipients) ?? "")
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        };
        try
        {
            mail.Parse();
        }
        catch (FormatException e)
        {
            problems.Add($"{EnvironmentNames.ReportSender}/{EnvironmentNames.ReportRecipients}: {e.Message}");
        }

        var priceText = variable(EnvironmentNames.PriceTable)?.Trim() ?? "";
        var kind = priceText switch
        {
            "" => PriceTableSourceKind.BuiltIn,
            _ when priceText.StartsWith('{') => PriceTableSourceKind.Inline,
            _ when priceText.StartsWith("s3://", StringComparison.Ordinal) => PriceTableSourceKind.S3,
            _ => PriceTableSourceKind.File,
        };
        var prices = PriceTable.Default;
        if (kind == PriceTableSourceKind.Inline)
        {
            try
            {
                prices = prices.WithOverride(priceText);
            }
            catch (FormatException e)
            {
                problems.Add($"{EnvironmentNames.PriceTable}: {e.Message}");
            }
        }
        else if (kind == PriceTableSourceKind.S3 && !TrySplitS3Uri(priceText, out _, out _))
        {
            problems.Add($"{EnvironmentNames.PriceTable}: '{priceText}' is not s3://bucket/key.");
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException("cost-report configuration: " + string.Join(" ", problems));
        }

        return new CostReportSettings
        {
            ArchiveBucket = bucket,
            Mail = mail,
            PriceTableSource = kind,
            PriceTableValue = priceText,
            Prices = prices,
        };
    }

    public static bool TrySplitS3Uri(string uri, out string bucket, out string key)
    {
        bucket = key = "";
        if (uri is null || !uri.StartsWith("s3://", StringComparison.Ordinal))
        {
            return false;
        }

        var rest = uri["s3://".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == rest.Length - 1)
        {
            return false;
        }

        bucket = rest[..slash];
        key = rest[(slash + 1)..];
        return true;
    }
}
