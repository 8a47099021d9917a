using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Pipeline.Core.Otlp;
using Relay.Http.Http2;

namespace Relay.Receive.Otlp;

/// <summary>
/// OTLP/gRPC <c>opentelemetry.proto.collector.trace.v1.TraceService/Export</c> (OTLP specification,
/// "OTLP/gRPC") on top of <see cref="Http2Session"/>: one length-prefixed message per request
/// (gRPC over HTTP/2, "Length-Prefixed-Message"), identity or <c>grpc-encoding: gzip</c>, decoded
/// by the same <see cref="OtlpIntake"/> as OTLP/HTTP. Answers: OK with an
/// <c>ExportTraceServiceResponse</c> (partial_success for refused spans); INVALID_ARGUMENT for a
/// message that does not decode; INTERNAL for broken gRPC framing or gzip; RESOURCE_EXHAUSTED past
/// the message size limits; UNIMPLEMENTED for another method or encoding; UNAVAILABLE with a
/// <c>google.rpc.RetryInfo</c> in <c>grpc-status-details-bin</c> when the buffer is full, which OTLP
/// exporters retry after the delay.
/// </summary>
public sealed class OtlpGrpcReceiver(OtlpIntake intake, OtlpReceiverMetrics metrics, OtlpReceiverOptions options)
{
    public const string ExportPath = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

    /// <summary>gRPC status codes used here. Source: grpc/grpc doc/statuscodes.md.</summary>
    public const int StatusOk = 0;
    public const int StatusInvalidArgument = 3;
    public const int StatusResourceExhausted = 8;
    public const int StatusUnimplemented = 12;
    public const int StatusInternal = 13;
    public const int StatusUnavailable = 14;

    /// <summary>The 5-byte message prefix: compressed flag, then the length big-endian. Source: gRPC "PROTOCOL-HTTP2.md".</summary>
    public const int MessagePrefixLength = 5;

    /// <summary>The Any type URL of google.rpc.RetryInfo. Source: googleapis google/rpc/error_details.proto.</summary>
    public const string RetryInfoTypeUrl = "type.googleapis.com/google.rpc.RetryInfo";

    /// <summary>grpc-message is cut to this many bytes before percent-encoding (it names a reason, never echoes input).</summary>
    private const int MaxMessageBytes = 512;

    private const string AcceptEncoding = "identity,gzip";

    public Task<Http2Response> HandleAsync(Http2Request request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Task.FromResult(Handle(request));
    }

    public Http2Response Handle(Http2Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!string.Equals(request.Method, "POST", StringComparison.Ordinal))
        {
            metrics.OnRequestRefused("method_not_allowed");
            return new Http2Response(405, [("content-type", "text/plain; charset=utf-8")], Encoding.UTF8.GetBytes("OTLP/gRPC takes POST\n"), null);
        }

        var contentType = request.Header("content-type") ?? string.Empty;
        if (!IsGrpcContentType(contentType))
        {
            metrics.OnRequestRefused("unsupported_media_type");
            return new Http2Response(415, [("content-type", "text/plain; charset=utf-8")], Encoding.UTF8.GetBytes("OTLP/gRPC takes content-type application/grpc\n"), null);
        }

        if (!string.Equals(request.Path, ExportPath, StringComparison.Ordinal))
        {
            return Status(StatusUnimplemented, "unknown method: this port serves " + ExportPath[1..], "unimplemented");
        }

        metrics.OnRequest();
        if (request.BodyTooLarge)
        {
            return Status(StatusResourceExhausted, $"the request message is larger than {options.MaxBodyBytes} bytes", "too_large");
        }

        var encoding = (request.Header("grpc-encoding") ?? "identity").Trim().ToLowerInvariant();
        if (encoding is not ("identity" or "gzip"))
        {
            return Status(StatusUnimplemented, $"unsupported grpc-encoding '{Cut(encoding)}': use identity or gzip", "unsupported_encoding");
        }

        var body = request.Body.Span;
        if (body.Length < MessagePrefixLength)
        {
            return Status(StatusInternal, "the request has no complete gRPC message", "grpc_framing");
        }

        var compressed = body[0];
        var length = BinaryPrimitives.ReadUInt32BigEndian(body[1..]);
        if (compressed > 1 || length != (uint)(body.Length - MessagePrefixLength))
        {
            // A unary call carries exactly one message; anything else is broken framing.
            return Status(StatusInternal, "the request is not exactly one length-prefixed gRPC message", "grpc_framing");
        }

        var message = body[MessagePrefixLength..];
        byte[]? inflated = null;
        if (compressed == 1)
        {
            if (encoding != "gzip")
            {
                // gRPC: a compressed message without a grpc-encoding is a protocol error (INTERNAL).
                return Status(StatusInternal, "a compressed message needs grpc-encoding: gzip", "grpc_framing");
            }

            var status = OtlpHttpReceiver.Gunzip(message, options.MaxDecompressedBytes, out inflated);
            if (status == 413)
            {
                return Status(StatusResourceExhausted, $"the decompressed message is larger than {options.MaxDecompressedBytes} bytes", "too_large");
            }

            if (status != 200)
            {
                return Status(StatusInternal, "the gzip message does not decompress", "bad_gzip");
            }
        }

        var result = intake.Accept(inflated is null ? message : inflated, OtlpEncoding.Protobuf);
        switch (result.Status)
        {
            case OtlpIntakeStatus.Malformed:
                // The intake counted it under its decode error.
                return Status(StatusInvalidArgument, result.Message, reason: null);
            case OtlpIntakeStatus.BufferFull:
                metrics.OnGrpcStatus(StatusUnavailable);
                return Trailers(StatusUnavailable, result.Message, RetryDetails(StatusUnavailable, result.Message, options.RetryAfter));
            default:
                metrics.OnGrpcStatus(StatusOk);
                var response = OtlpProtobufEncoder.EncodeResponse(result.Rejected, result.Message);
                var framed = new byte[MessagePrefixLength + response.Length];
                BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)response.Length);
                response.CopyTo(framed, MessagePrefixLength);
                return new Http2Response(200, [("content-type", "application/grpc"), ("grpc-accept-encoding", AcceptEncoding)], framed, [("grpc-status", "0")]);
        }
    }

    /// <summary><c>application/grpc</c>, optionally <c>+proto</c> and parameters (gRPC "PROTOCOL-HTTP2.md").</summary>
    private static bool IsGrpcContentType(string value)
    {
        var media = value.Split(';')[0].Trim();
        return media.Equals("application/grpc", StringComparison.OrdinalIgnoreCase) || media.Equals("application/grpc+proto", StringComparison.OrdinalIgnoreCase);
    }

    private Http2Response Status(int code, string message, string? reason)
    {
        if (reason is not null)
        {
            metrics.OnRequestRefused(reason);
        }

        metrics.OnGrpcStatus(code);
        return Trailers(code, message, details: null);
    }

    /// <summary>A trailers-only answer: one HEADERS frame with :status 200 and the gRPC status.</summary>
    private static Http2Response Trailers(int code, string message, byte[]? details)
    {
        var fields = new List<(string, string)>
        {
            ("content-type", "application/grpc"),
            ("grpc-accept-encoding", AcceptEncoding),
            ("grpc-status", code.ToString(CultureInfo.InvariantCulture)),
        };
        if (message.Length > 0)
        {
            fields.Add(("grpc-message", PercentEncode(message)));
        }

        if (details is not null)
        {
            // Binary metadata is base64; gRPC receivers accept it unpadded (PROTOCOL-HTTP2.md).
            fields.Add(("grpc-status-details-bin", Convert.ToBase64String(details).TrimEnd('=')));
        }

        return new Http2Response(200, fields, ReadOnlyMemory<byte>.Empty, null);
    }

    /// <summary>
    /// <c>google.rpc.Status</c> {code = 1, message = 2, details = 3: Any {type_url = 1, value = 2:
    /// <c>google.rpc.RetryInfo</c> {retry_delay = 1: Duration {seconds = 1, nanos = 2}}}}.
    /// </summary>
    internal static byte[] RetryDetails(int code, string message, TimeSpan delay)
    {
        var duration = new List<byte>();
        var seconds = (long)Math.Floor(delay.TotalSeconds);
        var nanos = (int)((delay.Ticks - (seconds * TimeSpan.TicksPerSecond)) * 100);
        if (seconds > 0)
        {
            Field(duration, 1, 0);
            Varint(duration, (ulong)seconds);
        }

        if (nanos > 0)
        {
            Field(duration, 2, 0);
            Varint(duration, (ulong)nanos);
        }

        var retryInfo = new List<byte>();
        Bytes(retryInfo, 1, [.. duration]);
        var any = new List<byte>();
        Bytes(any, 1, Encoding.UTF8.GetBytes(RetryInfoTypeUrl));
        Bytes(any, 2, [.. retryInfo]);
        var status = new List<byte>();
        Field(status, 1, 0);
        Varint(status, (ulong)code);
        Bytes(status, 2, Encoding.UTF8.GetBytes(message));
        Bytes(status, 3, [.. any]);
        return [.. status];

        static void Field(List<byte> output, int number, int wireType) => Varint(output, (ulong)((number << 3) | wireType));

        static void Bytes(List<byte> output, int number, byte[] value)
        {
            Field(output, number, 2);
            Varint(output, (ulong)value.Length);
            output.AddRange(value);
        }

        static void Varint(List<byte> output, ulong value)
        {
            while (value >= 0x80)
            {
                output.Add((byte)(value | 0x80));
                value >>= 7;
            }

            output.Add((byte)value);
        }
    }

    /// <summary>grpc-message: UTF-8, with bytes outside printable ASCII and '%' percent-encoded (PROTOCOL-HTTP2.md).</summary>
    internal static string PercentEncode(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var text = new StringBuilder(Math.Min(bytes.Length, MaxMessageBytes));
        foreach (var b in bytes.AsSpan(0, Math.Min(bytes.Length, MaxMessageBytes)))
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"%{b:X2}");
            }
        }

        return text.ToString();
    }

    private static string Cut(string value) => value.Length <= 32 ? value : value[..32];
}
