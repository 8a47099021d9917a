using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Amazon.Runtime;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Aws.Sts;

/// <summary>
/// AWS STS over the query protocol: a form-encoded POST to "/" with Action and Version
/// 2011-06-15, an XML answer (namespace https://sts.amazonaws.com/doc/2011-06-15/), errors as
/// &lt;ErrorResponse&gt;&lt;Error&gt;&lt;Code&gt;. Signed as "sts" in the configured region (the
/// regional endpoint https://sts.{region}.amazonaws.com, or AWS_ENDPOINT_URL_STS).
/// </summary>
internal sealed class StsClient : IStsClient
{
    /// <summary>Query protocol request body type (AWS query protocol spec).</summary>
    public const string ContentType = "application/x-www-form-urlencoded; charset=utf-8";

    public const string ApiVersion = "2011-06-15";

    /// <summary>STS AssumeRole bounds: DurationSeconds 900 to 43,200; RoleSessionName 2-64 of [\w+=,.@-].</summary>
    public static readonly TimeSpan MinDuration = TimeSpan.FromSeconds(900);

    public static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(43_200);

    public const int MaxSessionNameLength = 64;

    private readonly AwsHttpClient _http;

    public StsClient(AwsHttpClient http) => _http = http;

    public async Task<TemporaryCredentials> AssumeRoleAsync(string roleArn, string sessionName, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(roleArn);
        ArgumentException.ThrowIfNullOrWhiteSpace(sessionName);
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, MinDuration);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(duration, MaxDuration);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sessionName.Length, MaxSessionNameLength, nameof(sessionName));

        var form = new StringBuilder("Action=AssumeRole&Version=").Append(ApiVersion)
            .Append("&RoleArn=").Append(Uri.EscapeDataString(roleArn))
            .Append("&RoleSessionName=").Append(Uri.EscapeDataString(sessionName))
            .Append("&DurationSeconds=").Append(((long)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        var response = await _http.SendAsync(
            new AwsRequest(AwsService.Sts, "AssumeRole", HttpMethod.Post, "/", ContentType, Encoding.UTF8.GetBytes(form.ToString())),
            cancellationToken).ConfigureAwait(false);
        return ParseAssumeRole(response.Body);
    }

    /// <summary>The &lt;Credentials&gt; of an AssumeRoleResponse; anything missing is an <see cref="InvalidDataException"/>.</summary>
    internal static TemporaryCredentials ParseAssumeRole(byte[] body)
    {
        XDocument document;
        try
        {
            using var stream = new MemoryStream(body, writable: false);
            // No DTDs, no external entities: the answer is plain XML or it is refused.
            using var reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            document = XDocument.Load(reader);
        }
        catch (XmlException e)
        {
            throw new InvalidDataException($"STS AssumeRole answered a body that is not XML: {e.Message}", e);
        }

        var credentials = Child(Child(document.Root, "AssumeRoleResult"), "Credentials")
            ?? throw new InvalidDataException("STS AssumeRole answered no AssumeRoleResult/Credentials.");
        var expiration = Required(credentials, "Expiration");
        if (!DateTimeOffset.TryParse(expiration, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var expires))
        {
            throw new InvalidDataException($"STS AssumeRole answered an Expiration that is not a time: '{expiration}'.");
        }

        return new TemporaryCredentials(Required(credentials, "AccessKeyId"), Required(credentials, "SecretAccessKey"), Required(credentials, "SessionToken"), expires);
    }

    private static string Required(XElement parent, string localName) =>
        Child(parent, localName)?.Value is { Length: > 0 } value
            ? value
            : throw new InvalidDataException($"STS AssumeRole answered credentials without {localName}.");

    private static XElement? Child(XElement? parent, string localName) =>
        parent?.Elements().FirstOrDefault(e => e.Name.LocalName == localName);
}

/// <summary>Builds the STS client (the composition root's entry point).</summary>
public static class StsClientFactory
{
    /// <param name="settings">Region, endpoint (AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL) and retry bounds.</param>
    /// <param name="httpClient">The executable's one pooled HttpClient (not disposed here).</param>
    /// <param name="credentials">Who calls AssumeRole (the node's own identity); when null, as <see cref="SignedAwsClients"/> chooses.</param>
    public static IStsClient Create(AwsSettings settings, HttpClient httpClient, AWSCredentials? credentials = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var sender = new AwsHttpClient(httpClient, settings, credentials ?? AwsHttpClient.CredentialsFor(settings), timeProvider ?? TimeProvider.System, new Backoff(settings.Retry));
        return new StsClient(sender);
    }
}
