using System.Text;
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
    /// <summary>Query protocol request body type (AWS query protocol spec).</summary>
    public const string ContentType = "application/x-www-form-urlencoded; charset=utf-8";

    public const string ApiVersion = "2010-05-15";

    /// <summary>The error CloudFormation answers for an unknown stack: "Stack with id X does not exist" (HTTP 400).</summary>
    public const string ValidationErrorCode = "ValidationError";

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
        catch (AwsServiceException e) when (e.ErrorCode == ValidationErrorCode && e.ServiceMessage.Contains("does not exist", StringComparison.Ordinal))
        {
            return null;
        }

        var stack = Child(Child(result, "Stacks"), "member") ?? throw new InvalidDataException("CloudFormation DescribeStacks answered no stack.");
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var output in Child(stack, "Outputs")?.Elements().Where(e => e.Name.LocalName == "member") ?? [])
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

    /// <summary>One call; returns the &lt;{Action}Result&gt; element.</summary>
    private async Task<XElement> CallAsync(string action, IEnumerable<(string Name, string Value)> parameters, CancellationToken cancellationToken)
    {
        var form = new StringBuilder("Action=").Append(action).Append("&Version=").Append(ApiVersion);
        foreach (var (name, value) in parameters)
        {
            form.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }

        var response = await _http.SendAsync(
            new AwsRequest(AwsService.CloudFormation, action, HttpMethod.Post, "/", ContentType, Encoding.UTF8.GetBytes(form.ToString())),
            cancellationToken).ConfigureAwait(false);
        XDocument document;
        try
        {
            using var body = new MemoryStream(response.Body, writable: false);
            document = XDocument.Load(body);
        }
        catch (System.Xml.XmlException e)
        {
            throw new InvalidDataException($"CloudFormation {action} answered a body that is not XML: {e.Message}", e);
        }

        return Child(document.Root, action + "Result") ?? throw new InvalidDataException($"CloudFormation {action} answered no {action}Result.");
    }

    private static XElement? Child(XElement? parent, string localName) =>
        parent?.Elements().FirstOrDefault(e => e.Name.LocalName == localName);

    private static string? Text(XElement parent, string localName) => Child(parent, localName)?.Value;
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
