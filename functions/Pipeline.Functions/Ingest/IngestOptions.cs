using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Pipeline.Core.Redaction;
using Pipeline.Core.Sampling;
using Pipeline.Functions.Configuration;
using Pipeline.Runtime.Configuration;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Functions.Ingest;

/// <summary>
/// The ingest function's configuration, bound from the environment in one place
/// (<see cref="FromEnvironment"/>, through <see cref="EnvironmentBinder"/>), every default documented here:
/// <list type="bullet">
/// <item><c>ARCHIVE_BUCKET</c> (required): segments/, quarantine/, usage/, xray-retry/.</item>
/// <item><c>DECISION_TABLE</c> (required): DynamoDB table of remembered tail/reservoir decisions.</item>
/// <item><c>SAMPLING_RATE</c> = 0.1: fixed rate of the fallback rule "Default" (no reservoir, so the
/// decision is a pure function of the trace id and is the same on every shard).</item>
/// <item><c>SAMPLING_RULES</c> = none: JSON array of X-Ray rule fields, matched before the fallback.</item>
/// <item><c>TAIL_LATENCY_MS</c> = 1000: slower segments keep their trace.</item>
/// <item><c>DECISION_TTL_HOURS</c> = 24 (1..720): how long a remembered decision lives.</item>
/// <item><c>XRAY_FORWARD</c> = true (<see cref="XRayForwardMode"/>): "true"/"segments" sends kept traces to
/// PutTraceSegments; "otlp" sends kept OTel spans as received to X-Ray's OTLP endpoint (accounts with
/// CloudWatch Transaction Search) and X-Ray SDK segments to PutTraceSegments; "false"/"off" archives only.</item>
/// <item><c>REDACTION_RULES</c> = none: JSON <c>{"headers":[],"query_parameters":[],"keys":[]}</c> added to the built-in lists.</item>
/// <item><c>OTLP_ANNOTATION_KEYS</c> = none: comma-separated span attributes indexed as X-Ray annotations in documents
/// converted from OpenTelemetry spans (besides those a span lists in <c>aws.xray.annotations</c>).</item>
/// </list>
/// </summary>
public sealed record IngestOptions
{
    public const double DefaultSamplingRate = 0.1;
    public const int DefaultTailLatencyMs = 1000;
    public const int DefaultDecisionTtlHours = 24;
    public const int MaxDecisionTtlHours = 720;

    /// <summary>Priority of a SAMPLING_RULES entry that names none (X-Ray's default rule has 10000).</summary>
    public const int DefaultRulePriority = 10_000;

    /// <summary>Rules in SAMPLING_RULES; X-Ray allows 25 rules per account, so this is generous.</summary>
    public const int MaxSamplingRules = 100;

    /// <summary>Keys in OTLP_ANNOTATION_KEYS (X-Ray indexes 50 annotations per trace).</summary>
    public const int MaxOtlpAnnotationKeys = 50;

    /// <summary>Entries per list in REDACTION_RULES.</summary>
    public const int MaxRedactionEntries = 200;

    /// <summary>Set by Lambda: the function's memory in MB (Lambda developer guide, "Defined runtime environment variables").</summary>
    public const string FunctionMemoryVariable = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";

    public required string ArchiveBucket { get; init; }

    /// <summary>The DynamoDB decision table; null only for handlers built around another store (tests, local mode).</summary>
    public string? DecisionTable { get; init; }

    public SamplingPolicy Sampling { get; init; } = SamplingPolicy.Default;

    public RedactionPolicy Redaction { get; init; } = RedactionPolicy.Default;

    /// <summary>Where kept traces go (XRAY_FORWARD); today's behaviour, <see cref="XRayForwardMode.Segments"/>, by default.</summary>
    public XRayForwardMode XRayForward { get; init; } = XRayForwardMode.Segments;

    /// <summary>Shorthand of <see cref="XRayForward"/>: true is <see cref="XRayForwardMode.Segments"/>, false <see cref="XRayForwardMode.Off"/>.</summary>
    public bool ForwardToXRay
    {
        get => XRayForward != XRayForwardMode.Off;
        init => XRayForward = value ? XRayForwardMode.Segments : XRayForwardMode.Off;
    }

    /// <summary>Span attributes converted OTel spans index as annotations (OTLP_ANNOTATION_KEYS).</summary>
    public IReadOnlyList<string> OtlpAnnotationKeys { get; init; } = [];

    /// <summary>Lambda memory size for the usage record's GB-seconds (0 when unknown).</summary>
    public int FunctionMemoryMb { get; init; }

    /// <summary>
    /// Sends of a document X-Ray answers as unprocessed before it is parked in xray-retry/: 4 (the
    /// first and 3 resend rounds), rounds spaced by the one backoff from 100 ms, capped at 2 s so a
    /// batch never waits long on the view (throttling inside a call is retried by the client itself).
    /// </summary>
    public static readonly BackoffOptions DefaultXRayResend = new() { MaxAttempts = 4, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(2) };

    public BackoffOptions XRayResend { get; init; } = DefaultXRayResend;

    /// <summary>When less than this is left before the deadline, kept segments are parked instead of sent.</summary>
    public TimeSpan XRayDeadlineReserve { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Binds and validates every variable; bad values throw one <see cref="ConfigurationException"/>
    /// naming each variable and value (the host reports it as Runtime.ConfigInvalid).
    /// </summary>
    public static IngestOptions FromEnvironment(IEnvironment environment)
    {
        var env = new EnvironmentBinder(environment);
        var bucket = env.Required(EnvironmentNames.ArchiveBucket, "the S3 bucket of the archive");
        var table = env.Required(EnvironmentNames.DecisionTable, "the DynamoDB table of sampling decisions");
        var rate = env.Double(EnvironmentNames.SamplingRate, DefaultSamplingRate, 0, 1);
        var tailMs = env.Int(EnvironmentNames.TailLatencyMs, DefaultTailLatencyMs, min: 1);
        var ttlHours = env.Int(EnvironmentNames.DecisionTtlHours, DefaultDecisionTtlHours, 1, MaxDecisionTtlHours);
        var forward = env.Choice(
            EnvironmentNames.XRayForward,
            XRayForwardMode.Segments,
            ("true", XRayForwardMode.Segments),
            ("segments", XRayForwardMode.Segments),
            ("otlp", XRayForwardMode.Otlp),
            ("false", XRayForwardMode.Off),
            ("off", XRayForwardMode.Off));
        var rules = env.Parsed(EnvironmentNames.SamplingRules, [], ParseRules);
        var redaction = env.Parsed(EnvironmentNames.RedactionRules, RedactionPolicy.Default, ParseRedaction);
        var annotationKeys = env.Parsed<IReadOnlyList<string>>(EnvironmentNames.OtlpAnnotationKeys, [], ParseAnnotationKeys);
        // Set by Lambda itself, so a value that is not a positive number only means "unknown".
        var memory = env.Text(FunctionMemoryVariable) is { } mbText && ConfigValue.TryLong(mbText, 1, int.MaxValue, out var mb, out _) ? (int)mb : 0;
        env.ThrowIfInvalid();

        return new IngestOptions
        {
            ArchiveBucket = bucket,
            DecisionTable = table,
            Sampling = new SamplingPolicy
            {
                Rules = [.. rules, FallbackRule(rate)],
                Tail = new TailPolicy { SlowThreshold = TimeSpan.FromMilliseconds(tailMs) },
                DecisionTimeToLive = TimeSpan.FromHours(ttlHours),
            },
            Redaction = redaction,
            XRayForward = forward,
            OtlpAnnotationKeys = annotationKeys,
            FunctionMemoryMb = memory,
        };
    }

    /// <summary>The rule every trace matches last: a pure rate, no reservoir (see the type's remarks).</summary>
    public static SamplingRule FallbackRule(double rate) => new()
    {
        RuleName = "Default",
        Priority = int.MaxValue,
        FixedRate = rate,
        ReservoirSize = 0,
    };

    /// <summary>Reads OTLP_ANNOTATION_KEYS (comma-separated); a <see cref="FormatException"/> says what is wrong with it.</summary>
    internal static IReadOnlyList<string> ParseAnnotationKeys(string text)
    {
        var keys = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return keys.Length <= MaxOtlpAnnotationKeys
            ? keys
            : throw new FormatException($"lists {keys.Length.ToString(CultureInfo.InvariantCulture)} keys; at most {MaxOtlpAnnotationKeys.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>Reads SAMPLING_RULES; a <see cref="FormatException"/> says what is wrong with it.</summary>
    internal static IReadOnlyList<SamplingRule> ParseRules(string json)
    {
        List<SamplingRuleJson>? rules;
        try
        {
            rules = JsonSerializer.Deserialize(json, IngestOptionsJsonContext.Default.ListSamplingRuleJson);
        }
        catch (JsonException ex)
        {
            throw Invalid($"is not a JSON array of sampling rules: {ex.Message}");
        }

        if (rules is null || rules.Count > MaxSamplingRules)
        {
            throw Invalid($"must be a JSON array of at most {MaxSamplingRules} rules");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<SamplingRule>(rules.Count);
        foreach (var (rule, index) in rules.Select((r, i) => (r, i)))
        {
            var where = $"rule {index.ToString(CultureInfo.InvariantCulture)}";
            if (string.IsNullOrWhiteSpace(rule.RuleName) || !names.Add(rule.RuleName))
            {
                throw Invalid($"{where}: RuleName is required and unique");
            }

            if (rule.FixedRate is not (>= 0 and <= 1) || rule.ReservoirSize < 0 || rule.Version is not (null or 1))
            {
                throw Invalid($"{where} ({rule.RuleName}): FixedRate must be 0..1, ReservoirSize ≥ 0 and Version 1");
            }

            result.Add(new SamplingRule
            {
                RuleName = rule.RuleName,
                Priority = rule.Priority ?? DefaultRulePriority,
                FixedRate = rule.FixedRate,
                ReservoirSize = rule.ReservoirSize,
                ServiceName = rule.ServiceName ?? "*",
                ServiceType = rule.ServiceType ?? "*",
                Host = rule.Host ?? "*",
                HttpMethod = rule.HTTPMethod ?? "*",
                UrlPath = rule.URLPath ?? "*",
                ResourceArn = rule.ResourceARN ?? "*",
            });
        }

        return result;
    }

    /// <summary>Reads REDACTION_RULES; a <see cref="FormatException"/> says what is wrong with it.</summary>
    internal static RedactionPolicy ParseRedaction(string json)
    {
        var defaults = RedactionPolicy.Default;
        RedactionRulesJson? rules;
        try
        {
            rules = JsonSerializer.Deserialize(json, IngestOptionsJsonContext.Default.RedactionRulesJson);
        }
        catch (JsonException ex)
        {
            throw Invalid($"is not a JSON object {{\"headers\":[],\"query_parameters\":[],\"keys\":[]}}: {ex.Message}");
        }

        if (rules is null)
        {
            throw Invalid("must be a JSON object");
        }

        IReadOnlyList<string> Merge(IReadOnlyList<string> builtIn, List<string>? added, string field)
        {
            if (added is null)
            {
                return builtIn;
            }

            if (added.Count > MaxRedactionEntries || added.Any(string.IsNullOrWhiteSpace))
            {
                throw Invalid($"'{field}' must list at most {MaxRedactionEntries} non-empty names");
            }

            return [.. builtIn.Concat(added.Select(a => a.Trim())).Distinct(StringComparer.OrdinalIgnoreCase)];
        }

        return defaults with
        {
            HeaderNames = Merge(defaults.HeaderNames, rules.Headers, "headers"),
            QueryParameters = Merge(defaults.QueryParameters, rules.QueryParameters, "query_parameters"),
            KeyPatterns = Merge(defaults.KeyPatterns, rules.Keys, "keys"),
        };
    }

    private static FormatException Invalid(string problem) => new(problem);
}

/// <summary>Where the ingest sends kept traces (XRAY_FORWARD).</summary>
public enum XRayForwardMode
{
    /// <summary>Archive only ("false", "off").</summary>
    Off,

    /// <summary>Every kept document to PutTraceSegments ("true", "segments"; the default): OTel traces without an X-Ray epoch are counted, not sent.</summary>
    Segments,

    /// <summary>
    /// Kept OTel spans as received to X-Ray's OTLP traces endpoint (needs CloudWatch Transaction Search
    /// and the xray:PutSpans grant the template adds for this mode); X-Ray SDK segments to PutTraceSegments.
    /// W3C random trace ids are accepted there, so no OTel trace is left out for its epoch.
    /// </summary>
    Otlp,
}

/// <summary>A SAMPLING_RULES entry: the X-Ray sampling rule's field names (others, such as RuleARN, are ignored).</summary>
internal sealed record SamplingRuleJson
{
    public string? RuleName { get; init; }
    public int? Priority { get; init; }
    public double FixedRate { get; init; }
    public int ReservoirSize { get; init; }
    public string? ServiceName { get; init; }
    public string? ServiceType { get; init; }
    public string? Host { get; init; }
    public string? HTTPMethod { get; init; }
    public string? URLPath { get; init; }
    public string? ResourceARN { get; init; }
    public int? Version { get; init; }
}

// Strict, so a misspelt list name fails init instead of silently redacting less.
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record RedactionRulesJson
{
    [JsonPropertyName("headers")]
    public List<string>? Headers { get; init; }

    [JsonPropertyName("query_parameters")]
    public List<string>? QueryParameters { get; init; }

    [JsonPropertyName("keys")]
    public List<string>? Keys { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = true,
    MaxDepth = 8)]
[JsonSerializable(typeof(List<SamplingRuleJson>))]
[JsonSerializable(typeof(RedactionRulesJson))]
internal sealed partial class IngestOptionsJsonContext : JsonSerializerContext;
