using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Pipeline.Core.Otlp;

namespace Relay.Receive.Otlp;

/// <summary>An answer of the OTLP/HTTP receiver, before the HTTP layer writes it.</summary>
public sealed record OtlpHttpAnswer(int Status, string ContentType, byte[] Body, TimeSpan? RetryAfter = null);

/// <summary>
/// OTLP/HTTP <c>POST /v1/traces</c> (OTLP specification, "OTLP/HTTP"): <c>application/x-protobuf</c> or
/// <c>application/json</c>, optionally <c>Content-Encoding: gzip</c>. 200 with an
/// <c>ExportTraceServiceResponse</c> (with <c>partial_success</c> when spans were refused) in the
/// request's encoding; 400 with a <c>google.rpc.Status</c> for a body that does not decode; 413 past
/// the body limits; 415 for another content type or encoding; 503 with <c>Retry-After</c> when the
/// buffer is full, which OTel SDK exporters retry. Independent of the HTTP server that carries it.
/// </summary>
public sealed class OtlpHttpReceiver(OtlpIntake intake, OtlpReceiverMetrics metrics, OtlpReceiverOptions options)
{
    public const string TracesPath = "/v1/traces";
    public const string ProtobufContentType = "application/x-protobuf";
    public const string JsonContentType = "application/json";

    /// <summary>google.rpc.Code values used in error bodies. Source: googleapis google/rpc/code.proto.</summary>
    private const int CodeInvalidArgument = 3;
    private const int CodeUnavailable = 14;

    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="header">Reads a request header by (lower-case) name.</param>
    public OtlpHttpAnswer Handle(string method, string path, Func<string, string?> header, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (!string.Equals(path, TracesPath, StringComparison.Ordinal))
        {
            return new OtlpHttpAnswer(404, "text/plain; charset=utf-8", "not found: OTLP/HTTP traces are POST /v1/traces\n"u8.ToArray());
        }

        if (!string.Equals(method, "POST", StringComparison.Ordinal))
        {
            return new OtlpHttpAnswer(405, "text/plain; charset=utf-8", "method not allowed: POST /v1/traces\n"u8.ToArray());
        }

        metrics.OnRequest();
        var mediaType = (header("content-type") ?? string.Empty).Split(';')[0].Trim().ToLowerInvariant();
        OtlpEncoding encoding;
        switch (mediaType)
        {
            case ProtobufContentType:
                encoding = OtlpEncoding.Protobuf;
                break;
            case JsonContentType:
                encoding = OtlpEncoding.Json;
                break;
            default:
                metrics.OnRequestRefused("unsupported_media_type");
                return new OtlpHttpAnswer(415, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes($"unsupported content type '{mediaType}': use {ProtobufContentType} or {JsonContentType}\n"));
        }

        var contentEncoding = (header("content-encoding") ?? "identity").Trim().ToLowerInvariant();
        byte[]? inflated = null;
        if (contentEncoding == "gzip")
        {
            var status = Gunzip(body, options.MaxDecompressedBytes, out inflated);
            if (status != 200)
            {
                metrics.OnRequestRefused(status == 413 ? "too_large" : "bad_gzip");
                return Error(encoding, status, CodeInvalidArgument, status == 413
                    ? $"the decompressed body is larger than {options.MaxDecompressedBytes} bytes"
                    : "the gzip body does not decompress");
            }
        }
        else if (contentEncoding != "identity")
        {
            metrics.OnRequestRefused("unsupported_encoding");
            return new OtlpHttpAnswer(415, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes($"unsupported content encoding '{contentEncoding}': use gzip or none\n"));
        }

        var result = intake.Accept(inflated is null ? body : inflated, encoding);
        return result.Status switch
        {
            OtlpIntakeStatus.Malformed => Error(encoding, 400, CodeInvalidArgument, result.Message),
            OtlpIntakeStatus.BufferFull => Error(encoding, 503, CodeUnavailable, result.Message) with { RetryAfter = options.RetryAfter },
            _ => Success(encoding, result),
        };
    }

    /// <summary>The answer for a body over the server's size limit (the HTTP layer refuses it before reading).</summary>
    public static OtlpHttpAnswer TooLarge(long limit) =>
        new(413, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes($"the request body is larger than {limit.ToString(CultureInfo.InvariantCulture)} bytes\n"));

    private static OtlpHttpAnswer Success(OtlpEncoding encoding, OtlpIntakeResult result)
    {
        if (encoding == OtlpEncoding.Protobuf)
        {
            return new OtlpHttpAnswer(200, ProtobufContentType, OtlpProtobufEncoder.EncodeResponse(result.Rejected, result.Message));
        }

        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, JsonOptions))
        {
            json.WriteStartObject();
            if (result.Rejected > 0 || result.Message.Length > 0)
            {
                json.WriteStartObject("partialSuccess"u8);
                // int64 is a string in the protobuf JSON mapping.
                json.WriteString("rejectedSpans"u8, result.Rejected.ToString(CultureInfo.InvariantCulture));
                json.WriteString("errorMessage"u8, result.Message);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return new OtlpHttpAnswer(200, JsonContentType, stream.ToArray());
    }

    /// <summary>An error with a <c>google.rpc.Status</c> body (code = 1, message = 2), in the request's encoding.</summary>
    private static OtlpHttpAnswer Error(OtlpEncoding encoding, int status, int code, string message)
    {
        if (encoding == OtlpEncoding.Json)
        {
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream, JsonOptions))
            {
                json.WriteStartObject();
                json.WriteNumber("code"u8, code);
                json.WriteString("message"u8, message);
                json.WriteEndObject();
            }

            return new OtlpHttpAnswer(status, JsonContentType, stream.ToArray());
        }

        return new OtlpHttpAnswer(status, ProtobufContentType, RpcStatus(code, message));
    }

    /// <summary><c>google.rpc.Status</c> protobuf: field 1 code (varint), field 2 message (string).</summary>
    internal static byte[] RpcStatus(int code, string message)
    {
        var text = Encoding.UTF8.GetBytes(message);
        using var stream = new MemoryStream(text.Length + 16);
        stream.WriteByte(0x08);
        WriteVarint(stream, (ulong)code);
        if (text.Length > 0)
        {
            stream.WriteByte(0x12);
            WriteVarint(stream, (ulong)text.Length);
            stream.Write(text);
        }

        return stream.ToArray();
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }

    /// <summary>The smallest gzip member: 10-byte header, an empty deflate block (2), CRC32 and ISIZE (8). RFC 1952 §2.3.</summary>
    private const int MinGzipBytes = 20;

    /// <summary>Decompresses at most <paramref name="limit"/> bytes: 200, 413 past the limit, 400 for a corrupt stream.</summary>
    internal static int Gunzip(ReadOnlySpan<byte> body, int limit, out byte[]? inflated)
    {
        inflated = null;
        try
        {
            using var input = new MemoryStream(body.ToArray(), writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = gzip.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (output.Length + read > limit)
                {
                    return 413;
                }

                output.Write(chunk, 0, read);
            }

            // GZipStream ends quietly on a truncated stream; the member's trailer tells: ISIZE, the
            // input length mod 2^32, in the last 4 bytes (RFC 1952 §2.3.1). Exporters send one member.
            if (body.Length < MinGzipBytes || BinaryPrimitives.ReadUInt32LittleEndian(body[^4..]) != (uint)output.Length)
            {
                return 400;
            }

            inflated = output.ToArray();
            return 200;
        }
        catch (InvalidDataException)
        {
            return 400;
        }
    }
}
