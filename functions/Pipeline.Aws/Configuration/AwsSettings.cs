using Pipeline.Runtime.Configuration;

namespace Pipeline.Aws.Configuration;

/// <summary>
/// Where and as whom the AWS clients talk, bound from the environment in one place
/// (<see cref="FromEnvironment"/>). Defaults: region <see cref="FallbackRegion"/> when neither
/// region variable is set; the public AWS endpoint when no endpoint variable is set; the SDK's
/// default credential chain when no key pair is set; <see cref="RetryOptions.Default"/>.
/// </summary>
public sealed record AwsSettings
{
    public const string RegionVariable = "AWS_REGION";
    public const string DefaultRegionVariable = "AWS_DEFAULT_REGION";

    /// <summary>Endpoint for every service (SDK "configured endpoints" spec).</summary>
    public const string EndpointUrlVariable = "AWS_ENDPOINT_URL";

    /// <summary>Prefix of a service's own endpoint variable, e.g. AWS_ENDPOINT_URL_KINESIS; it wins over AWS_ENDPOINT_URL.</summary>
    public const string ServiceEndpointUrlVariablePrefix = "AWS_ENDPOINT_URL_";

    public const string AccessKeyIdVariable = "AWS_ACCESS_KEY_ID";
    public const string SecretAccessKeyVariable = "AWS_SECRET_ACCESS_KEY";
    public const string SessionTokenVariable = "AWS_SESSION_TOKEN";

    /// <summary>Region used when no region variable is set (the one moto and our local mode use).</summary>
    public const string FallbackRegion = "us-east-1";

    public string Region { get; init; } = FallbackRegion;

    /// <summary>AWS_ENDPOINT_URL: an endpoint for every service, or null for the public endpoints.</summary>
    public Uri? EndpointUrl { get; init; }

    /// <summary>AWS_ENDPOINT_URL_&lt;SERVICE&gt; values; each wins over <see cref="EndpointUrl"/>.</summary>
    public IReadOnlyDictionary<AwsService, Uri> ServiceEndpointUrls { get; init; } = new Dictionary<AwsService, Uri>();

    /// <summary>Explicit key pair; when null, the SDK's default credential chain is used.</summary>
    public string? AccessKeyId { get; init; }

    public string? SecretAccessKey { get; init; }

    public string? SessionToken { get; init; }

    public RetryOptions Retry { get; init; } = RetryOptions.Default;

    /// <summary>
    /// Reads every setting through <paramref name="environment"/>; nothing else reads AWS variables.
    /// An endpoint that is not an absolute http(s) URL throws a <see cref="ConfigurationException"/>
    /// naming the variable and the value (every bad one at once).
    /// </summary>
    public static AwsSettings FromEnvironment(IEnvironment environment)
    {
        var env = new EnvironmentBinder(environment);
        var services = new Dictionary<AwsService, Uri>();
        foreach (var service in Enum.GetValues<AwsService>())
        {
            if (env.Url(ServiceEndpointUrlVariablePrefix + AwsServiceInfo.Of(service).EndpointVariableSuffix) is { } url)
            {
                services[service] = url;
            }
        }

        var settings = new AwsSettings
        {
            Region = env.Text(RegionVariable) ?? env.Text(DefaultRegionVariable) ?? FallbackRegion,
            EndpointUrl = env.Url(EndpointUrlVariable),
            ServiceEndpointUrls = services,
            AccessKeyId = env.Text(AccessKeyIdVariable),
            SecretAccessKey = env.Text(SecretAccessKeyVariable),
            SessionToken = env.Text(SessionTokenVariable),
        };
        env.ThrowIfInvalid();
        return settings;
    }

    /// <summary>Whether <paramref name="service"/> goes to a configured endpoint rather than AWS's own.</summary>
    public bool HasCustomEndpoint(AwsService service) =>
        ServiceEndpointUrls.ContainsKey(service) || EndpointUrl is not null;

    /// <summary>
    /// The base address for <paramref name="service"/>: AWS_ENDPOINT_URL_&lt;SERVICE&gt;, else
    /// AWS_ENDPOINT_URL, else https://{prefix}.{region}.amazonaws.com (.com.cn in China regions).
    /// </summary>
    public Uri ResolveEndpoint(AwsService service)
    {
        if (ServiceEndpointUrls.TryGetValue(service, out var own))
        {
            return own;
        }

        if (EndpointUrl is not null)
        {
            return EndpointUrl;
        }

        var info = AwsServiceInfo.Of(service);
        var dnsSuffix = Region.StartsWith("cn-", StringComparison.Ordinal) ? "amazonaws.com.cn" : "amazonaws.com";
        return new Uri($"https://{info.EndpointPrefix}.{Region}.{dnsSuffix}/");
    }

    // Records print every member; secrets must never reach a log line.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Region = ").Append(Region)
            .Append(", EndpointUrl = ").Append(EndpointUrl)
            .Append(", ServiceEndpointUrls = [").AppendJoin(", ", ServiceEndpointUrls.Select(p => $"{p.Key}={p.Value}")).Append(']')
            .Append(", AccessKeyId = ").Append(AccessKeyId)
            .Append(", SecretAccessKey = ").Append(SecretAccessKey is null ? null : "***")
            .Append(", SessionToken = ").Append(SessionToken is null ? null : "***")
            .Append(", Retry = ").Append(Retry);
        return true;
    }
}
