using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Pipeline.Core.Otlp;

namespace Pipeline.Cli.Send;

/// <summary>
/// What the receiver answered to one export: 200 (<see cref="Ok"/>) with the spans it refused
/// (<c>partial_success</c>) and its message, or the final error status and body, and how many
/// attempts it took.
/// </summary>
internal readonly record struct OtlpExportResult(bool Ok, int Status, long RejectedSpans, string Detail, int Attempts);

/// <summary>
/// Posts OTLP export requests as protobuf to an OTLP/HTTP receiver (<c>POST /v1/traces</c>), as an
/// OTel SDK exporter does: a 429/502/503/504 is retried after its <c>Retry-After</c> (seconds or a
/// date; 1 s when absent), at most <see cref="MaxAttempts"/> attempts, each wait capped at
/// <see cref="MaxWait"/>; anything else is the answer. A 200's <c>ExportTraceServiceResponse</c> is
/// decoded for its <c>partial_success</c>.
/// </summary>
internal sealed class OtlpHttpSender(HttpClient http, Uri endpoint, TimeProvider time)
{
    public const int MaxAttempts = 5;

    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(1);

    public Uri TracesUrl { get; } = new(endpoint, "v1/traces");

    public async Task<OtlpExportResult> ExportAsync(OtlpTraceRequest request, CancellationToken cancellationToken)
    {
        var body = OtlpProtobufEncoder.Encode(request);
        for (var attempt = 1; ; attempt++)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
            using var response = await http.PostAsync(TracesUrl, content, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                return TryReadPartialSuccess(answer, out var rejected, out var message)
                    ? new OtlpExportResult(true, status, rejected, message, attempt)
                    : new OtlpExportResult(true, status, 0, $"an undecodable {answer.Length}-byte ExportTraceServiceResponse", attempt);
            }

            if (status is 429 or 502 or 503 or 504 && attempt < MaxAttempts)
            {
                await Task.Delay(WaitOf(response.Headers.RetryAfter, time.GetUtcNow()), time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return new OtlpExportResult(false, status, 0, text.Length > 200 ? text[..200] : text, attempt);
        }
    }

    /// <summary>The wait a retryable answer asks for: its Retry-After delta or date, 1 s without one, between 0 and <see cref="MaxWait"/>.</summary>
    public static TimeSpan WaitOf(RetryConditionHeaderValue? retryAfter, DateTimeOffset now)
    {
        var wait = retryAfter?.Delta ?? (retryAfter?.Date is { } date ? date - now : DefaultWait);
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxWait ? MaxWait : wait;
    }

    /// <summary>
    /// Reads <c>ExportTraceServiceResponse.partial_success</c> (field 1: <c>rejected_spans</c> = 1,
    /// <c>error_message</c> = 2; OTLP specification). An empty body is full success. False when the
    /// bytes are not such a message.
    /// </summary>
    public static bool TryReadPartialSuccess(ReadOnlySpan<byte> body, out long rejected, out string message)
    {
        rejected = 0;
        message = string.Empty;
        while (!body.IsEmpty)
        {
            if (!TryReadField(ref body, out var field, out var wireType, out _, out var bytes))
            {
                return false;
            }

            if (field != 1 || wireType != 2)
            {
                continue;
            }

            var inner = bytes;
            while (!inner.IsEmpty)
            {
                if (!TryReadField(ref inner, out var innerField, out var innerType, out var innerVarint, out var innerBytes))
                {
                    return false;
                }

                if (innerField == 1 && innerType == 0)
                {
                    rejected = unchecked((long)innerVarint);
                }
                else if (innerField == 2 && innerType == 2)
                {
                    message = Encoding.UTF8.GetString(innerBytes);
                }
            }

        }

        return true;
    }

    private static bool TryReadField(ref ReadOnlySpan<byte> body, out int field, out int wireType, out ulong varint, out ReadOnlySpan<byte> bytes)
    {
        field = 0;
        wireType = 0;
        varint = 0;
        bytes = default;
        if (!TryReadVarint(ref body, out var tag) || tag >> 3 is 0 or > int.MaxValue)
        {
            return false;
        }

        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        switch (wireType)
        {
            case 0:
                return TryReadVarint(ref body, out varint);
            case 1 when body.Length >= 8:
                body = body[8..];
                return true;
            case 5 when body.Length >= 4:
                body = body[4..];
                return true;
            case 2:
                if (!TryReadVarint(ref body, out var length) || length > (ulong)body.Length)
                {
                    return false;
                }

                bytes = body[..(int)length];
                body = body[(int)length..];
                return true;
            default:
                return false;
        }
    }

    private static bool TryReadVarint(ref ReadOnlySpan<byte> body, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (body.IsEmpty)
            {
                return false;
            }

            var b = body[0];
            body = body[1..];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }
}
