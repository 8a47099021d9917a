using System.Text;
using System.Xml;
using System.Xml.Linq;
using Pipeline.Aws.Configuration;

namespace Pipeline.Aws.Http;

/// <summary>
/// The AWS query protocol (CloudFormation, CloudWatch): a form-encoded POST to "/" with Action,
/// Version and the parameters (lists as <c>Name.member.N</c>), an XML answer whose
/// <c>&lt;{Action}Result&gt;</c> holds the result; errors are &lt;ErrorResponse&gt; (mapped by
/// <see cref="AwsErrorMapper"/>). Elements are read by local name, so the namespace of each API
/// version does not matter.
/// </summary>
internal static class AwsQueryProtocol
{
    /// <summary>Query protocol request body type (AWS query protocol spec).</summary>
    public const string ContentType = "application/x-www-form-urlencoded; charset=utf-8";

    /// <summary>One call; returns the &lt;{Action}Result&gt; element.</summary>
    public static async Task<XElement> CallAsync(
        AwsHttpClient http,
        AwsService service,
        string apiVersion,
        string action,
        IEnumerable<(string Name, string Value)> parameters,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        var form = new StringBuilder("Action=").Append(action).Append("&Version=").Append(apiVersion);
        foreach (var (name, value) in parameters)
        {
            form.Append('&').Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
        }

        var response = await http.SendAsync(
            new AwsRequest(service, action, HttpMethod.Post, "/", ContentType, Encoding.UTF8.GetBytes(form.ToString())),
            cancellationToken).ConfigureAwait(false);
        XDocument document;
        try
        {
            using var body = new MemoryStream(response.Body, writable: false);
            document = XDocument.Load(body);
        }
        catch (XmlException e)
        {
            throw new InvalidDataException($"{service} {action} answered a body that is not XML: {e.Message}", e);
        }

        return Child(document.Root, action + "Result") ?? throw new InvalidDataException($"{service} {action} answered no {action}Result.");
    }

    public static XElement? Child(XElement? parent, string localName) =>
        parent?.Elements().FirstOrDefault(e => e.Name.LocalName == localName);

    /// <summary>The &lt;member&gt; elements of a list element (none when the list is absent).</summary>
    public static IEnumerable<XElement> Members(XElement? list) =>
        list?.Elements().Where(e => e.Name.LocalName == "member") ?? [];

    public static string? Text(XElement parent, string localName) => Child(parent, localName)?.Value;
}
