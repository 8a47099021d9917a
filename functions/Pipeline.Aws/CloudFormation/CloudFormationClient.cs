using System.Xml.Linq;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Aws.CloudFormation;

/// <summary>
/// AWS CloudFormation over the query protocol: a form-encoded POST to "/" with Action and
/// Version, an XML answer (namespace http://cloudformation.amazonaws.com/doc/2010-05-15/),
/// errors as &lt;ErrorResponse&gt;&lt;Error&gt;&lt;Code&gt;. Signed as "cloudformation".
/// </summary>
internal sealed class CloudFormationClient : ICloudFormationClient
{
    public const string ApiVersion = "2010-05-15";

    /// <summary>The error CloudFormation answers for an unknown stack: "Stack with id X does not exist" (HTTP 400).</summary>
    public const string ValidationErrorCode = "ValidationError";

    /// <summary>ListStackResources pages at most this many times (100 summaries a page; a stack holds at most 500 resources).</summary>
    public const int MaxResourcePages = 10;

    private readonly AwsHttpClient _http;

    public CloudFormationClient(AwsHttpClient http) => _http = http;

    public async Task<StackDescription?> DescribeStackAsync(string stackName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stackName);
        XElement result;
        try
        {
            result = await CallAsync("DescribeStacks", [("StackName", stackName)], cancellationToken).ConfigureAwait(false);
        }
        catch (AwsServiceException e) when (IsMissingStack(e))
        {
            return null;
        }

        var stack = Members(Child(result, "Stacks")).FirstOrDefault() ?? throw new InvalidDataException("CloudFormation DescribeStacks answered no stack.");
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var output in Members(Child(stack, "Outputs")))
        {
            if (Text(output, "OutputKey") is { } key)
            {
                outputs[key] = Text(output, "OutputValue") ?? string.Empty;
            }
        }

        return new StackDescription(
            Text(stack, "StackName") ?? stackName,
            Text(stack, "StackId") ?? string.Empty,
            Text(stack, "StackStatus") ?? string.Empty,
            outputs);
    }

    public async Task<IReadOnlyList<StackResource>?> ListStackResourcesAsync(string stackName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stackName);
        var resources = new List<StackResource>();
        string? token = null;
        for (var page = 0; page < MaxResourcePages; page++)
        {
            List<(string, string)> parameters = [("StackName", stackName)];
            if (token is not null)
            {
                parameters.Add(("NextToken", token));
            }

            XElement result;
            try
            {
                result = await CallAsync("ListStackResources", parameters, cancellationToken).ConfigureAwait(false);
            }
            catch (AwsServiceException e) when (IsMissingStack(e))
            {
                return null;
            }

            foreach (var member in Members(Child(result, "StackResourceSummaries")))
            {
                resources.Add(new StackResource(
                    Text(member, "LogicalResourceId") ?? string.Empty,
                    Text(member, "PhysicalResourceId") ?? string.Empty,
                    Text(member, "ResourceType") ?? string.Empty,
                    Text(member, "ResourceStatus") ?? string.Empty));
            }

            token = Text(result, "NextToken");
            if (string.IsNullOrEmpty(token))
            {
                return resources;
            }
        }

        throw new InvalidDataException($"CloudFormation ListStackResources of {stackName} had more than {MaxResourcePages} pages.");
    }

    private static bool IsMissingStack(AwsServiceException e) =>
        e.ErrorCode == ValidationErrorCode && e.ServiceMessage.Contains("does not exist", StringComparison.Ordinal);

    private Task<XElement> CallAsync(string action, IEnumerable<(string Name, string Value)> parameters, CancellationToken cancellationToken) =>
        AwsQueryProtocol.CallAsync(_http, AwsService.CloudFormation, ApiVersion, action, parameters, cancellationToken);

    private static XElement? Child(XElement? parent, string localName) => AwsQueryProtocol.Child(parent, localName);

    private static IEnumerable<XElement> Members(XElement? list) => AwsQueryProtocol.Members(list);

    private static string? Text(XElement parent, string localName) => AwsQueryProtocol.Text(parent, localName);
}

/// <summary>Builds the CloudFormation client from the shared settings (the composition root's entry point).</summary>
public static class CloudFormationClientFactory
{
    /// <param name="httpClient">The executable's one pooled HttpClient (not disposed here).</param>
    public static ICloudFormationClient Create(AwsSettings settings, HttpClient httpClient, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var sender = new AwsHttpClient(httpClient, settings, AwsHttpClient.CredentialsFor(settings), timeProvider ?? TimeProvider.System, new Backoff(settings.Retry));
        return new CloudFormationClient(sender);
    }
}
