using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Pipeline.Aws.Http;

/// <summary>Turns an AWS error answer (JSON 1.1, rest-json or XML) into a typed exception.</summary>
internal static class AwsErrorMapper
{
    /// <summary>
    /// The one classification of a failed attempt: throttling, 5xx and transient network failures
    /// are retried; everything else is final.
    /// </summary>
    public static bool IsRetryable(Exception exception, CancellationToken callerToken) => exception switch
    {
        AwsServiceException service => service.IsRetryable,
        HttpRequestException => true,
        IOException => true,
        SocketException => true,
        // HttpClient's own timeout surfaces as a cancellation that the caller did not ask for.
        OperationCanceledException => !callerToken.IsCancellationRequested,
        _ => false,
    };

    /// <summary>Error type header of JSON protocols; value "Code:namespace-url" (protocol spec).</summary>
    public const string ErrorTypeHeader = "x-amzn-ErrorType";

    public const string RequestIdHeader = "x-amzn-RequestId";

    /// <summary>S3 and older query services name the request id this way.</summary>
    public const string AlternateRequestIdHeader = "x-amz-request-id";

    // The SDKs' standard retry spec lists these as throttling errors.
    private static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "RequestLimitExceeded", "BandwidthLimitExceeded",
        "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException", "TransactionInProgressException", "KMSThrottlingException",
    };

    private static readonly HashSet<string> ValidationCodes = new(StringComparer.Ordinal)
    {
        "ValidationException", "InvalidArgumentException", "InvalidParameterValueException",
        "InvalidParameterException", "InvalidRequestException", "BadRequestException",
        "SerializationException", "MissingParameter", "InvalidParameterCombination",
        "MessageRejected", "MailFromDomainNotVerifiedException", "InvalidInput",
    };

    private static readonly HashSet<string> NotFoundCodes = new(StringComparer.Ordinal)
    {
        "ResourceNotFoundException", "NotFoundException", "NoSuchBucket", "NoSuchKey", "InvalidSamplingRuleException",
    };

    private static readonly HashSet<string> InUseCodes = new(StringComparer.Ordinal)
    {
        "ResourceInUseException", "AlreadyExistsException", "ConflictException", "BucketAlreadyOwnedByYou",
    };

    private static readonly HashSet<string> AccessCodes = new(StringComparer.Ordinal)
    {
        "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidSignatureException",
        "SignatureDoesNotMatch", "ExpiredTokenException", "ExpiredToken", "InvalidClientTokenId",
        "MissingAuthenticationTokenException", "IncompleteSignature", "KMSAccessDeniedException",
    };

    public static AwsServiceException Map(string service, HttpStatusCode status, string? errorTypeHeader, string? requestId, ReadOnlySpan<byte> body)
    {
        var (bodyCode, message) = ReadBody(body);
        var code = Clean(errorTypeHeader) ?? Clean(bodyCode) ?? DefaultCode(status);
        message ??= string.Empty;
        if (code == "ProvisionedThroughputExceededException")
        {
            return new ProvisionedThroughputExceededException(service, code, status, requestId, message);
        }

        if (ThrottlingCodes.Contains(code) || status == HttpStatusCode.TooManyRequests)
        {
            return new AwsThrottlingException(service, code, status, requestId, message);
        }

        if (ValidationCodes.Contains(code))
        {
            return new AwsValidationException(service, code, status, requestId, message);
        }

        if (NotFoundCodes.Contains(code))
        {
            return new AwsResourceNotFoundException(service, code, status, requestId, message);
        }

        if (InUseCodes.Contains(code))
        {
            return new AwsResourceInUseException(service, code, status, requestId, message);
        }

        if (AccessCodes.Contains(code) || status is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            return new AwsAccessDeniedException(service, code, status, requestId, message);
        }

        return new AwsServiceException(service, code, status, requestId, message);
    }

    // "aws.protocoltests#FooError:http://internal.amazon.com/..." → "FooError".
    internal static string? Clean(string? code)
    {
        if (string.IsNullOrWhiteSpace(code))
        {
            return null;
        }

        var span = code.AsSpan().Trim();
        var colon = span.IndexOf(':');
        if (colon >= 0)
        {
            span = span[..colon];
        }

        var hash = span.LastIndexOf('#');
        if (hash >= 0)
        {
            span = span[(hash + 1)..];
        }

        return span.IsEmpty ? null : span.ToString();
    }

    private static string DefaultCode(HttpStatusCode status) => status switch
    {
        HttpStatusCode.TooManyRequests => "TooManyRequestsException",
        HttpStatusCode.NotFound => "NotFoundException",
        HttpStatusCode.Forbidden => "AccessDeniedException",
        HttpStatusCode.ServiceUnavailable => "ServiceUnavailable",
        >= HttpStatusCode.InternalServerError => "InternalFailure",
        _ => "UnknownError",
    };

    // JSON bodies carry __type/code and message/Message at the top level; anything else
    // (XML, HTML from a proxy, empty) yields no code and a short excerpt as the message.
    private static (string? Code, string? Message) ReadBody(ReadOnlySpan<byte> body)
    {
        const int maxExcerpt = 512;
        if (body.IsEmpty)
        {
            return (null, null);
        }

        var trimmed = body.TrimStart(" \t\r\n"u8);
        if (trimmed.IsEmpty || trimmed[0] != (byte)'{')
        {
            var text = System.Text.Encoding.UTF8.GetString(body[..Math.Min(body.Length, maxExcerpt)]);
            return (XmlElement(text, "Code"), XmlElement(text, "Message") ?? text);
        }

        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 16 });
            string? code = null;
            string? message = null;
            reader.Read();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                var isType = reader.ValueTextEquals("__type"u8) || reader.ValueTextEquals("code"u8) || reader.ValueTextEquals("Code"u8);
                var isMessage = reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("Message"u8) || reader.ValueTextEquals("errorMessage"u8);
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && (isType || isMessage))
                {
                    if (isType)
                    {
                        code ??= reader.GetString();
                    }
                    else
                    {
                        message ??= reader.GetString();
                    }
                }
                else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                }
            }

            return (code, message);
        }
        catch (JsonException)
        {
            return (null, System.Text.Encoding.UTF8.GetString(body[..Math.Min(body.Length, maxExcerpt)]));
        }
    }

    // XML error bodies (S3, the query protocol's ErrorResponse) carry <Code> and <Message>.
    private static string? XmlElement(string text, string name)
    {
        var open = "<" + name + ">";
        var start = text.IndexOf(open, StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        start += open.Length;
        var end = text.IndexOf("</" + name + ">", start, StringComparison.Ordinal);
        return end > start ? System.Net.WebUtility.HtmlDecode(text[start..end]) : null;
    }
}
