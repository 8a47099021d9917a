using System.Text;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;

namespace Pipeline.Aws.XRay;

/// <summary>
/// X-Ray's OTLP traces endpoint (<c>POST https://xray.&lt;region&gt;.amazonaws.com/v1/traces</c>, OTLP/HTTP
/// with a protobuf <c>ExportTraceServiceRequest</c>, SigV4 service <c>xray</c>), which takes spans for
/// accounts with CloudWatch Transaction Search. Sources: AWS X-Ray developer guide, "OpenTelemetry
/// Protocol (OTLP) Endpoint"; CloudWatch user guide, "OTLP Endpoints" (limits per request: 5 MB
/// uncompressed, 10,000 spans).
/// </summary>
public interface IXRayOtlpClient
{
    /// <summary>
    /// One export of an encoded <c>ExportTraceServiceRequest</c> (at most <see cref="XRayOtlpLimits.MaxRequestBytes"/>).
    /// Throttling (429) and 5xx are retried by the client with the one backoff policy; an answer
    /// that is still an error is an <see cref="AwsServiceException"/>. A 2xx answer's
    /// <c>partial_success</c> is returned, never thrown.
    /// </summary>
    Task<OtlpExportResponse> ExportTracesAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default);
}

/// <summary>The limits X-Ray's OTLP traces endpoint sets (CloudWatch user guide, "OTLP Endpoints", "Endpoint limits and restrictions").</summary>
public static class XRayOtlpLimits
{
    /// <summary>Uncompressed bytes per request; a larger request is refused.</summary>
    public const int MaxRequestBytes = 5 * 1024 * 1024;

    /// <summary>Spans per request; more are refused.</summary>
    public const int MaxSpansPerRequest = 10_000;

    /// <summary>Bytes of one span; a larger span is refused.</summary>
    public const int MaxSpanBytes = 200 * 1024;

    /// <summary>Bytes of one resource with its scope; a larger one refuses the whole request.</summary>
    public const int MaxResourceAndScopeBytes = 16 * 1024;

    /// <summary>How far in the past a span may start.</summary>
    public static readonly TimeSpan MaxSpanAge = TimeSpan.FromDays(14);

    /// <summary>How far in the future a span may start.</summary>
    public static readonly TimeSpan MaxSpanSkew = TimeSpan.FromHours(2);

    /// <summary>The time range the spans of one request may cover.</summary>
    public static readonly TimeSpan MaxRequestTimeRange = TimeSpan.FromHours(24);
}

/// <summary>The endpoint's <c>ExportTraceServiceResponse</c>: spans it refused (<c>partial_success.rejected_spans</c>) and its message.</summary>
public readonly record struct OtlpExportResponse(long RejectedSpans, string ErrorMessage)
{
    public bool IsPartial => RejectedSpans > 0;
}

/// <summary>OTLP/HTTP protobuf to X-Ray, signed with SigV4 on the shared <see cref="AwsHttpClient"/>.</summary>
internal sealed class XRayOtlpClient(AwsHttpClient http) : IXRayOtlpClient
{
    public const string ContentType = "application/x-protobuf";

    /// <summary>The OTLP/HTTP traces path (OTLP specification, "OTLP/HTTP Request").</summary>
    public const string TracesPath = "/v1/traces";

    /// <summary>The operation name the retry counters and errors carry.</summary>
    public const string Operation = "OtlpTraces";

    private readonly AwsHttpClient _http = http ?? throw new ArgumentNullException(nameof(http));

    public async Task<OtlpExportResponse> ExportTracesAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default)
    {
        if (request.Length > XRayOtlpLimits.MaxRequestBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.Length, $"An OTLP export to X-Ray takes at most {XRayOtlpLimits.MaxRequestBytes} bytes.");
        }

        var response = await _http.SendAsync(new AwsRequest(AwsService.XRay, Operation, HttpMethod.Post, TracesPath, ContentType, request), cancellationToken).ConfigureAwait(false);
        return ReadResponse(response.Body);
    }

    /// <summary>
    /// Reads an <c>ExportTraceServiceResponse</c> (field 1 <c>partial_success</c>: field 1 int64
    /// <c>rejected_spans</c>, field 2 string <c>error_message</c>); unknown fields are skipped. A body
    /// that is not such a message is an <see cref="InvalidDataException"/>.
    /// </summary>
    internal static OtlpExportResponse ReadResponse(ReadOnlySpan<byte> body)
    {
        long rejected = 0;
        var message = string.Empty;
        var position = 0;
        while (position < body.Length)
        {
            var (field, wire) = Tag(body, ref position);
            if (field == 1 && wire == 2)
            {
                var inner = LengthDelimited(body, ref position);
                var at = 0;
                while (at < inner.Length)
                {
                    var (innerField, innerWire) = Tag(inner, ref at);
                    if (innerField == 1 && innerWire == 0)
                    {
                        rejected = unchecked((long)Varint(inner, ref at));
                    }
                    else if (innerField == 2 && innerWire == 2)
                    {
                        message = Encoding.UTF8.GetString(LengthDelimited(inner, ref at));
                    }
                    else
                    {
                        Skip(inner, ref at, innerWire);
                    }
                }
            }
            else
            {
                Skip(body, ref position, wire);
            }
        }

        return new OtlpExportResponse(rejected, message);
    }

    private static (int Field, int Wire) Tag(ReadOnlySpan<byte> data, ref int position)
    {
        var tag = Varint(data, ref position);
        return tag >> 3 is 0 or > int.MaxValue ? throw Malformed("a field number of 0") : ((int)(tag >> 3), (int)(tag & 7));
    }

    private static ulong Varint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (position >= data.Length)
            {
                throw Malformed("a truncated varint");
            }

            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw Malformed("a varint longer than 10 bytes");
    }

    private static ReadOnlySpan<byte> LengthDelimited(ReadOnlySpan<byte> data, ref int position)
    {
        var length = Varint(data, ref position);
        if (length > (ulong)(data.Length - position))
        {
            throw Malformed("a field longer than the message");
        }

        var value = data.Slice(position, (int)length);
        position += (int)length;
        return value;
    }

    private static void Skip(ReadOnlySpan<byte> data, ref int position, int wire)
    {
        switch (wire)
        {
            case 0:
                Varint(data, ref position);
                break;
            case 1:
                Advance(data, ref position, 8);
                break;
            case 2:
                LengthDelimited(data, ref position);
                break;
            case 5:
                Advance(data, ref position, 4);
                break;
            default:
                throw Malformed($"wire type {wire}");
        }
    }

    private static void Advance(ReadOnlySpan<byte> data, ref int position, int bytes)
    {
        if (data.Length - position < bytes)
        {
            throw Malformed("a truncated fixed-width field");
        }

        position += bytes;
    }

    private static InvalidDataException Malformed(string what) => new($"X-Ray's OTLP endpoint answered a body that is not an ExportTraceServiceResponse ({what}).");
}
