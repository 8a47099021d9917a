using System.Text.Json;
using System.Text.Json.Serialization;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;

namespace Pipeline.Aws.Ses;

/// <summary>SES v2 over rest-json (API version 2019-09-27), signed with SigV4 as "ses".</summary>
internal sealed class SesClient : ISesClient
{
    public const string ContentType = "application/json";

    // Request URIs from the SES v2 API reference.
    public const string SendEmailPath = "/v2/email/outbound-emails";
    public const string CreateEmailIdentityPath = "/v2/email/identities";

    /// <summary>SES v2 raw message size limit (40 MB after base64 in the SES quotas page).</summary>
    public const int MaxRawMessageBytes = 40 * 1000 * 1000 * 3 / 4;

    private readonly AwsHttpClient _http;

    public SesClient(AwsHttpClient http) => _http = http;

    public async Task<string> SendRawEmailAsync(RawEmail email, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(email);
        if (email.Mime.IsEmpty || email.Mime.Length > MaxRawMessageBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(email), email.Mime.Length, $"A raw message has 1 to {MaxRawMessageBytes} bytes.");
        }

        var request = new SendEmailRequest(
            email.FromEmailAddress,
            email.ToAddresses is { Count: > 0 } to ? new DestinationWire(to) : null,
            new EmailContentWire(new RawMessageWire(email.Mime)));
        var body = JsonSerializer.SerializeToUtf8Bytes(request, SesJsonContext.Default.SendEmailRequest);
        var response = await _http.SendAsync(new AwsRequest(AwsService.SesV2, "SendEmail", HttpMethod.Post, SendEmailPath, ContentType, body), cancellationToken).ConfigureAwait(false);
        var parsed = JsonSerializer.Deserialize(response.Body, SesJsonContext.Default.SendEmailResponse);
        return parsed?.MessageId ?? throw new InvalidDataException("SES SendEmail answered no MessageId.");
    }

    public async Task<EmailIdentityResult> CreateEmailIdentityAsync(string emailIdentity, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(emailIdentity);
        var body = JsonSerializer.SerializeToUtf8Bytes(new CreateEmailIdentityRequest(emailIdentity), SesJsonContext.Default.CreateEmailIdentityRequest);
        var response = await _http.SendAsync(new AwsRequest(AwsService.SesV2, "CreateEmailIdentity", HttpMethod.Post, CreateEmailIdentityPath, ContentType, body), cancellationToken).ConfigureAwait(false);
        var parsed = response.Body.Length == 0 ? null : JsonSerializer.Deserialize(response.Body, SesJsonContext.Default.CreateEmailIdentityResponse);
        return new EmailIdentityResult(parsed?.IdentityType, parsed?.VerifiedForSendingStatus ?? false);
    }
}

internal sealed record SendEmailRequest(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? FromEmailAddress,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DestinationWire? Destination,
    EmailContentWire Content);

internal sealed record DestinationWire(IReadOnlyList<string> ToAddresses);

internal sealed record EmailContentWire(RawMessageWire Raw);

/// <summary>Data is the MIME message, base64 on the wire (a blob member).</summary>
internal sealed record RawMessageWire(ReadOnlyMemory<byte> Data);

internal sealed record SendEmailResponse(string? MessageId);

internal sealed record CreateEmailIdentityRequest(string EmailIdentity);

internal sealed record CreateEmailIdentityResponse(string? IdentityType, bool? VerifiedForSendingStatus);

[JsonSourceGenerationOptions(MaxDepth = 16)]
[JsonSerializable(typeof(SendEmailRequest))]
[JsonSerializable(typeof(SendEmailResponse))]
[JsonSerializable(typeof(CreateEmailIdentityRequest))]
[JsonSerializable(typeof(CreateEmailIdentityResponse))]
internal sealed partial class SesJsonContext : JsonSerializerContext;
