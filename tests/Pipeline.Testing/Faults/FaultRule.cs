namespace Pipeline.Testing.Faults;

/// <summary>What the proxy knows about a request when it decides whether a rule applies.</summary>
/// <param name="Number">1-based count of requests this proxy has received.</param>
/// <param name="Service">The SigV4 scope's service (<c>kinesis</c>, <c>xray</c>, <c>s3</c>, ...); null when unsigned.</param>
/// <param name="Operation">The X-Amz-Target operation (<c>PutRecords</c>), else the rest-json path's operation (X-Ray <c>/TraceSegments</c> → <c>PutTraceSegments</c>), else the HTTP method (S3: <c>PUT</c>, <c>GET</c>).</param>
public sealed record FaultRequest(long Number, string Method, string Path, string? Service, string Operation);

/// <summary>One request and the answer the client got, as a recording <see cref="FaultProxy"/> saw them.</summary>
/// <param name="Query">The raw query string with its leading <c>?</c> (still percent-encoded), or empty.</param>
/// <param name="AccessKeyId">The SigV4 scope's access key id: who signed (a role session's key, the test's own key).</param>
/// <param name="Region">The SigV4 scope's region.</param>
/// <param name="Target">The X-Amz-Target header (JSON 1.0/1.1 protocols), or null.</param>
/// <param name="AmzHeaders">The request's x-amz-* headers, names in lower case.</param>
/// <param name="Body">The request body, at most <see cref="FaultProxy.MaxRecordedBodyBytes"/>.</param>
/// <param name="Status">The answer's HTTP status; 0 when the connection was aborted without one.</param>
/// <param name="ResponseBody">The answer's body, at most <see cref="FaultProxy.MaxRecordedBodyBytes"/>.</param>
public sealed record RecordedExchange(
    FaultRequest Request,
    string Query,
    string? AccessKeyId,
    string? Region,
    string? Target,
    string? ContentType,
    IReadOnlyDictionary<string, string> AmzHeaders,
    byte[] Body,
    bool BodyTruncated,
    int Status,
    byte[] ResponseBody)
{
    public override string ToString() => $"#{Request.Number} {Request.Service}:{Request.Operation} {Request.Method} {Request.Path}{Query} -> {Status}";
}

/// <summary>
/// One fault-injection rule: which requests it matches and what it does to them. Rules are tried
/// in order; the first that matches and fires (its <see cref="Probability"/>, drawn from the
/// proxy's seeded random, and its <see cref="MaxInjections"/> budget) decides the request.
/// <see cref="Enabled"/> can be flipped while the proxy runs to open and close an outage window.
/// </summary>
public sealed class FaultRule
{
    private int _matched;
    private int _injected;
    private volatile bool _enabled = true;

    public FaultRule(FaultAction action) => Action = action ?? throw new ArgumentNullException(nameof(action));

    public FaultAction Action { get; }

    /// <summary>A label for failure messages and counters.</summary>
    public string Name { get; init; } = "rule";

    /// <summary>SigV4 scope service (ordinal, lower case), or null for any.</summary>
    public string? Service { get; init; }

    /// <summary>Operation (see <see cref="FaultRequest.Operation"/>), or null for any.</summary>
    public string? Operation { get; init; }

    /// <summary>A substring the path must contain (S3 keys: <c>/segments/</c>), or null.</summary>
    public string? PathContains { get; init; }

    /// <summary>Any further condition, e.g. a range of request numbers.</summary>
    public Func<FaultRequest, bool>? When { get; init; }

    /// <summary>Chance that a matching request is faulted (seeded); 1 = always.</summary>
    public double Probability { get; init; } = 1;

    /// <summary>Faults to inject at most (a burst); null = no limit.</summary>
    public int? MaxInjections { get; init; }

    public bool Enabled
    {
        get => _enabled;
        set => _enabled = value;
    }

    /// <summary>Requests that matched the rule's filters while it was enabled.</summary>
    public int Matched => Volatile.Read(ref _matched);

    /// <summary>Requests the rule faulted.</summary>
    public int Injected => Volatile.Read(ref _injected);

    internal bool Matches(FaultRequest request) =>
        _enabled
        && (Service is null || string.Equals(Service, request.Service, StringComparison.Ordinal))
        && (Operation is null || string.Equals(Operation, request.Operation, StringComparison.Ordinal))
        && (PathContains is null || request.Path.Contains(PathContains, StringComparison.Ordinal))
        && (When is null || When(request));

    /// <summary>Counts the match and decides (with <paramref name="draw"/> in [0,1)) whether to fire.</summary>
    internal bool TryFire(double draw)
    {
        Interlocked.Increment(ref _matched);
        if (draw >= Probability)
        {
            return false;
        }

        if (MaxInjections is { } max)
        {
            // Reserve one of the budget's slots; give it back when the budget is spent.
            if (Interlocked.Increment(ref _injected) > max)
            {
                Interlocked.Decrement(ref _injected);
                return false;
            }

            return true;
        }

        Interlocked.Increment(ref _injected);
        return true;
    }
}

/// <summary>What a rule does to a request it fires on.</summary>
public abstract record FaultAction
{
    /// <summary>Answers without forwarding: the service never saw the call (throttling, outage).</summary>
    public static FaultAction Respond(int status, string body, string contentType = "application/x-amz-json-1.1", string? errorType = null) =>
        new RespondFault(status, body, contentType, errorType, AfterForward: false);

    /// <summary>Forwards, then answers the error anyway: the write happened but the client does not know (an S3 500 after the PUT landed).</summary>
    public static FaultAction RespondAfterForward(int status, string body, string contentType = "application/xml") =>
        new RespondFault(status, body, contentType, null, AfterForward: true);

    /// <summary>Waits, then forwards (a slow service).</summary>
    public static FaultAction Delay(TimeSpan delay) => new DelayFault(delay);

    /// <summary>Aborts the connection without an answer (TCP reset as the client sees it).</summary>
    public static FaultAction Reset() => new ResetFault(TimeSpan.Zero);

    /// <summary>Holds the request for <paramref name="hold"/> without answering, then aborts (a client timeout if it is shorter).</summary>
    public static FaultAction Hang(TimeSpan hold) => new ResetFault(hold);

    /// <summary>
    /// Kinesis PutRecords partial failure: records chosen by <paramref name="share"/> (seeded) or by
    /// <paramref name="select"/> (call number, record index) answer ProvisionedThroughputExceededException.
    /// Only the surviving records are forwarded, because Kinesis does not write a record it reports
    /// failed; synthesising a failure for a record that was written would invent duplicates that the
    /// real service never produces.
    /// </summary>
    public static FaultAction ThrottleKinesisRecords(double share, Func<int, int, bool>? select = null) => new KinesisRecordsFault(share, select);

    /// <summary>
    /// X-Ray PutTraceSegments partial failure: a <paramref name="share"/> of the documents (seeded)
    /// come back in UnprocessedTraceSegments with <paramref name="errorCode"/> and are not forwarded.
    /// </summary>
    public static FaultAction XRayUnprocessed(double share, string errorCode = "ThrottledException") => new XRayUnprocessedFault(share, errorCode);
}

internal sealed record RespondFault(int Status, string Body, string ContentType, string? ErrorType, bool AfterForward) : FaultAction;

internal sealed record DelayFault(TimeSpan Duration) : FaultAction;

internal sealed record ResetFault(TimeSpan Hold) : FaultAction;

internal sealed record KinesisRecordsFault(double Share, Func<int, int, bool>? Select) : FaultAction;

internal sealed record XRayUnprocessedFault(double Share, string ErrorCode) : FaultAction;

/// <summary>Error answers as each service sends them (status, body shape, error type header).</summary>
public static class FaultResponses
{
    /// <summary>Kinesis whole-call throttling: 400 with __type (JSON 1.1 error shape).</summary>
    public static FaultAction KinesisThrottled() =>
        FaultAction.Respond(400, """{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for stream (injected)"}""");

    /// <summary>Kinesis unavailable: 503 (an outage or a regional event as the client sees it).</summary>
    public static FaultAction KinesisUnavailable() =>
        FaultAction.Respond(503, """{"__type":"ServiceUnavailableException","message":"injected outage"}""");

    /// <summary>X-Ray throttling: 429 ThrottledException (rest-json: type in x-amzn-ErrorType).</summary>
    public static FaultAction XRayThrottled() =>
        FaultAction.Respond(429, """{"message":"Rate exceeded (injected)"}""", "application/json", "ThrottledException");

    /// <summary>An X-Ray 5xx.</summary>
    public static FaultAction XRayServerError(int status = 500) =>
        FaultAction.Respond(status, """{"message":"injected server error"}""", "application/json", "InternalFailure");

    /// <summary>S3 InternalError (500) before the write.</summary>
    public static FaultAction S3InternalError() => FaultAction.Respond(500, S3Error("InternalError", "We encountered an internal error. Please try again. (injected)"), "application/xml");

    /// <summary>S3 SlowDown (503) before the write.</summary>
    public static FaultAction S3SlowDown() => FaultAction.Respond(503, S3Error("SlowDown", "Please reduce your request rate. (injected)"), "application/xml");

    /// <summary>
    /// S3 AccessDenied (403) before the call: what S3 answers a caller without the permission, and
    /// also a GET of a missing key by a caller that may not list the bucket (S3 API reference, GetObject).
    /// </summary>
    public static FaultAction S3AccessDenied() => FaultAction.Respond(403, S3Error("AccessDenied", "Access Denied (injected)"), "application/xml");

    /// <summary>S3 InternalError (500) after the object was written.</summary>
    public static FaultAction S3InternalErrorAfterWrite() => FaultAction.RespondAfterForward(500, S3Error("InternalError", "We encountered an internal error. Please try again. (injected after write)"));

    private static string S3Error(string code, string message) =>
        $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>INJECTED</RequestId></Error>";
}
