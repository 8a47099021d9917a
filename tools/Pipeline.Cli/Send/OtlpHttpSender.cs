using System.Net;
using System.Net.Http.Headers;
using Pipeline.Core.Otlp;

namespace Pipeline.Cli.Send;

/// <summary>What the relay answered to one export: spans it took, spans it refused (partial_success).</summary>
internal readonly record struct OtlpExportResult(bool Ok, int Status, string Detail);

/// <summary>
/// Posts OTLP export requests as protobuf to an OTLP/HTTP receiver (<c>POST /v1/traces</c>), as an
/// OTel SDK exporter does: a 429/502/503/504 is retried after its Retry-After (at most
/// <see cref="MaxAttempts"/> attempts, waits capped at 5 s), anything else is the answer.
/// </summary>
internal sealed class OtlpHttpSender(HttpClient http, Uri endpoint, TimeProvider time)
{
    public const int MaxAttempts = 5;

    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(5);

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
                return new OtlpExportResult(true, status, answer.Length == 0 ? "" : $"{answer.Length}-byte ExportTraceServiceResponse (partial success)");
            }

            if (status is 429 or 502 or 503 or 504 && attempt < MaxAttempts)
            {
                var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                await Task.Delay(wait < MaxWait ? wait : MaxWait, time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return new OtlpExportResult(false, status, text.Length > 200 ? text[..200] : text);
        }
    }
}
