using System.Net;
using Pipeline.Aws.Http;
using Pipeline.Aws.XRay;
using Pipeline.Core.Otlp;

namespace Pipeline.Functions.Tests.Ingest;

/// <summary>
/// X-Ray's OTLP endpoint in memory: decodes and records every request (so tests compare spans, not
/// bytes) and answers from a script, one entry per request; past the script it accepts everything.
/// </summary>
internal sealed class FakeXRayOtlp : IXRayOtlpClient
{
    private readonly Queue<Func<OtlpTraceRequest, OtlpExportResponse>> _script = new();

    /// <summary>Every request received, decoded, in order (refused ones included).</summary>
    public List<OtlpTraceRequest> Requests { get; } = [];

    /// <summary>The encoded size of each request.</summary>
    public List<int> RequestBytes { get; } = [];

    /// <summary>Every span the endpoint took (answered 2xx), in order.</summary>
    public List<OtlpSpan> Accepted { get; } = [];

    public FakeXRayOtlp Then(Func<OtlpTraceRequest, OtlpExportResponse> answer)
    {
        _script.Enqueue(answer);
        return this;
    }

    public FakeXRayOtlp ThenPartial(long rejected, string message) => Then(_ => new OtlpExportResponse(rejected, message));

    public FakeXRayOtlp ThenFail(HttpStatusCode status, string code = "Failure") =>
        Then(_ => throw new AwsServiceException("xray", code, status, "req-1", $"{(int)status} from the fake"));

    public Task<OtlpExportResponse> ExportTracesAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default)
    {
        var decoded = OtlpProtobufDecoder.Decode(request.Span);
        decoded.IsOk.Should().BeTrue("the forwarder sends decodable ExportTraceServiceRequests");
        var message = decoded.Request!;
        Requests.Add(message);
        RequestBytes.Add(request.Length);
        var answer = _script.Count > 0 ? _script.Dequeue()(message) : default;
        Accepted.AddRange(message.ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans));
        return Task.FromResult(answer);
    }
}
