using Pipeline.Core.Cost;
using Pipeline.Functions.Configuration;
using Pipeline.Runtime.Configuration;

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

    /// <summary>Binds and validates; throws one <see cref="ConfigurationException"/> naming every bad variable and value.</summary>
    public static CostReportSettings FromEnvironment(IEnvironment environment)
    {
        var env = new EnvironmentBinder(environment);
        var bucket = env.Required(EnvironmentNames.ArchiveBucket, "the archive bucket holding usage/ and graphs/");
        var mail = new ReportMailSettings
        {
            From = env.Text(EnvironmentNames.ReportSender) ?? "",
            To = (env.Text(EnvironmentNames.ReportRecipients) ?? "")
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        };
        try
        {
            mail.Parse();
        }
        catch (FormatException e)
        {
            env.Invalid($"{EnvironmentNames.ReportSender}/{EnvironmentNames.ReportRecipients}", e.Message);
        }

        var priceText = env.Text(EnvironmentNames.PriceTable) ?? "";
        var kind = priceText switch
        {
            "" => PriceTableSourceKind.BuiltIn,
            _ when priceText.StartsWith('{') => PriceTableSourceKind.Inline,
            _ when priceText.StartsWith("s3://", StringComparison.Ordinal) => PriceTableSourceKind.S3,
            _ => PriceTableSourceKind.File,
        };
        var prices = kind == PriceTableSourceKind.Inline
            ? env.Parsed(EnvironmentNames.PriceTable, PriceTable.Default, PriceTable.Default.WithOverride)
            : PriceTable.Default;
        if (kind == PriceTableSourceKind.S3 && !TrySplitS3Uri(priceText, out _, out _))
        {
            env.Invalid(EnvironmentNames.PriceTable, $"'{priceText}' is not s3://bucket/key");
        }

        env.ThrowIfInvalid();
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
