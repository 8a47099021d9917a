using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Pipeline.Aws.Tests.Support;

/// <summary>A request as the fake handler saw it (body copied before the message is disposed).</summary>
internal sealed record SeenRequest(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
}

/// <summary>An HttpMessageHandler that answers from a script, one entry per attempt, and records what it got.</summary>
internal sealed class FakeAwsHandler : HttpMessageHandler
{
    private readonly Func<int, SeenRequest, HttpResponseMessage> _respond;
    private readonly ConcurrentQueue<SeenRequest> _seen = new();
    private int _calls;

    public FakeAwsHandler(Func<int, SeenRequest, HttpResponseMessage> respond) => _respond = respond;

    public IReadOnlyList<SeenRequest> Requests => [.. _seen];

    public int Calls => Volatile.Read(ref _calls);

    public static FakeAwsHandler Always(HttpStatusCode status, string body, string? errorType = null) =>
        new((_, _) => Response(status, body, errorType));

    /// <summary>Answers the given responses in turn; the last one repeats.</summary>
    public static FakeAwsHandler Sequence(params Func<HttpResponseMessage>[] responses) =>
        new((n, _) => responses[Math.Min(n, responses.Length - 1)]());

    public static HttpResponseMessage Response(HttpStatusCode status, string body, string? errorType = null, string? requestId = "req-1")
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/x-amz-json-1.1") };
        if (errorType is not null)
        {
            response.Headers.TryAddWithoutValidation("x-amzn-ErrorType", errorType);
        }

        if (requestId is not null)
        {
            response.Headers.TryAddWithoutValidation("x-amzn-RequestId", requestId);
        }

        return response;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            headers[name] = string.Join(",", values);
        }

        var body = Array.Empty<byte>();
        if (request.Content is not null)
        {
            foreach (var (name, values) in request.Content.Headers)
            {
                headers[name] = string.Join(",", values);
            }

            body = await request.Content.ReadAsByteArrayAsync(cancellationToken);
        }

        var seen = new SeenRequest(request.Method, request.RequestUri!, headers, body);
        _seen.Enqueue(seen);
        var n = Interlocked.Increment(ref _calls) - 1;
        return _respond(n, seen);
    }
}
