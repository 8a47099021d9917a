using System.Text.Json.Serialization;

namespace Pipeline.Core.Sampling;

/// <summary>
/// A head sampling rule with the fields of an X-Ray sampling rule (GetSamplingRules'
/// <c>SamplingRule</c>: RuleName, Priority, FixedRate, ReservoirSize, ServiceName, ServiceType,
/// Host, HTTPMethod, URLPath, ResourceARN, Version). Matching fields are globs with <c>*</c> and
/// <c>?</c>, compared ASCII case-insensitively, as X-Ray does. The JSON names are X-Ray's, so a
/// rule exported from X-Ray (or served to SDKs) binds as is through <see cref="SamplingJsonContext"/>.
/// </summary>
public sealed record SamplingRule
{
    [JsonPropertyName("RuleName")]
    public required string RuleName { get; init; }

    /// <summary>Lower wins; ties broken by <see cref="RuleName"/> (X-Ray's order).</summary>
    [JsonPropertyName("Priority")]
    public int Priority { get; init; } = 10_000;

    /// <summary>Fraction of traces kept after the reservoir is used up, 0..1.</summary>
    [JsonPropertyName("FixedRate")]
    public double FixedRate { get; init; }

    /// <summary>Traces kept per second before <see cref="FixedRate"/> applies.</summary>
    [JsonPropertyName("ReservoirSize")]
    public int ReservoirSize { get; init; }

    /// <summary>Matched against the segment <c>name</c>.</summary>
    [JsonPropertyName("ServiceName")]
    public string ServiceName { get; init; } = "*";

    /// <summary>Matched against the segment <c>origin</c> (e.g. <c>AWS::EC2::Instance</c>).</summary>
    [JsonPropertyName("ServiceType")]
    public string ServiceType { get; init; } = "*";

    /// <summary>Matched against the host of <c>http.request.url</c>.</summary>
    [JsonPropertyName("Host")]
    public string Host { get; init; } = "*";

    [JsonPropertyName("HTTPMethod")]
    public string HttpMethod { get; init; } = "*";

    /// <summary>Matched against the path of <c>http.request.url</c>.</summary>
    [JsonPropertyName("URLPath")]
    public string UrlPath { get; init; } = "*";

    /// <summary>Matched against the segment <c>resource_arn</c>.</summary>
    [JsonPropertyName("ResourceARN")]
    public string ResourceArn { get; init; } = "*";

    [JsonPropertyName("Version")]
    public int Version { get; init; } = 1;
}

/// <summary>Tail policies: traces that are always kept whatever the head rules say.</summary>
public sealed record TailPolicy
{
    public bool KeepErrors { get; init; } = true;
    public bool KeepFaults { get; init; } = true;
    public bool KeepThrottles { get; init; } = true;

    /// <summary>Keep when an HTTP response status is ≥ 500 or is 429 (Too Many Requests).</summary>
    public bool KeepHttpFailures { get; init; } = true;

    /// <summary>Keep when the segment lasted longer than this; null disables the check.</summary>
    public TimeSpan? SlowThreshold { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>Head rules plus tail policies, and how long a remembered decision lives.</summary>
public sealed record SamplingPolicy
{
    /// <summary>X-Ray's own default rule: 1 trace a second, then 5 %. Source: X-Ray developer guide, "Sampling rules".</summary>
    public static SamplingRule XRayDefaultRule { get; } = new() { RuleName = "Default", Priority = 10_000, FixedRate = 0.05, ReservoirSize = 1 };

    public static SamplingPolicy Default { get; } = new();

    public IReadOnlyList<SamplingRule> Rules { get; init; } = [XRayDefaultRule];

    public TailPolicy Tail { get; init; } = new();

    /// <summary>TTL of remembered (tail or reservoir) decisions: long enough for a trace's late segments.</summary>
    public TimeSpan DecisionTimeToLive { get; init; } = TimeSpan.FromHours(1);
}

/// <summary>Source-generated JSON for sampling rules (X-Ray field names; unknown fields such as Attributes are ignored).</summary>
[JsonSerializable(typeof(SamplingRule))]
[JsonSerializable(typeof(SamplingRule[]))]
public sealed partial class SamplingJsonContext : JsonSerializerContext;
