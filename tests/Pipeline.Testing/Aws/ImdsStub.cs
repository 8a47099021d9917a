using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using Pipeline.LocalAws.Processes;

namespace Pipeline.Testing.Aws;

/// <summary>How the stub misbehaves (every request while set).</summary>
public enum ImdsFault
{
    None,

    /// <summary>Accept the request and never answer (until the stub is disposed).</summary>
    Hang,

    /// <summary>Answer 500 to everything.</summary>
    ServerError,

    /// <summary>Refuse token requests with 403 (instance metadata turned off).</summary>
    TokenForbidden,

    /// <summary>Refuse every GET with 401, whatever the token (a token that never works).</summary>
    AlwaysUnauthorized,
}

/// <summary>
/// EC2 instance metadata with IMDSv2 enforced (HttpTokens=required), on a loopback port: a
/// session token from <c>PUT /latest/api/token</c> (the TTL header is required), GETs without a
/// valid token get 401, as the real service answers. Serves the identity document (or only
/// placement/region), the role list and the role's credentials, with faults on demand
/// (<see cref="Fault"/>, <see cref="ExpireTokens"/>). Point a process at it with
/// AWS_EC2_METADATA_SERVICE_ENDPOINT=<see cref="Endpoint"/>.
/// </summary>
public sealed class ImdsStub : IAsyncDisposable
{
    private const int MaxBindAttempts = 5;
    private readonly HttpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, bool> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _log = new();
    private readonly Task _loop;
    private int _tokenRequests;
    private int _credentialRequests;
    private int _untokenedRequests;
    private int _credentialsIssued;

    private ImdsStub(HttpListener listener, Uri endpoint)
    {
        _listener = listener;
        Endpoint = endpoint;
        _loop = Task.Run(ServeAsync);
    }

    public Uri Endpoint { get; }

    public string Region { get; set; } = "us-east-1";

    /// <summary>Serve no identity document (404), so that clients fall back to placement/region.</summary>
    public bool IdentityDocumentMissing { get; set; }

    /// <summary>The instance profile's role; null: no role attached (404 on the role list).</summary>
    public string? Role { get; set; } = "relay-node";

    /// <summary>How long each credentials answer is valid from the moment it is served.</summary>
    public TimeSpan CredentialLifetime { get; set; } = TimeSpan.FromHours(6);

    /// <summary>The Code field of the credentials answer ("Success" on a healthy instance).</summary>
    public string CredentialCode { get; set; } = "Success";

    public ImdsFault Fault { get; set; }

    /// <summary>The clock the Expiration of served credentials is computed on (tests may pass a fake one).</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    public int TokenRequests => Volatile.Read(ref _tokenRequests);

    public int CredentialRequests => Volatile.Read(ref _credentialRequests);

    /// <summary>GETs that came without a valid token (an IMDSv1 client would make these).</summary>
    public int UntokenedRequests => Volatile.Read(ref _untokenedRequests);

    /// <summary>"METHOD /path" of every request, in arrival order.</summary>
    public IReadOnlyList<string> Requests => [.. _log];

    /// <summary>The access key id the n-th credentials answer carries (1-based).</summary>
    public static string AccessKeyIdFor(int n) => string.Create(CultureInfo.InvariantCulture, $"ASIAIMDSSTUB{n:D8}");

    public static ImdsStub Start()
    {
        for (var attempt = 1; ; attempt++)
        {
            var endpoint = new Uri($"http://127.0.0.1:{LoopbackPorts.FreeTcp()}/");
            var listener = new HttpListener();
            listener.Prefixes.Add(endpoint.ToString());
            try
            {
                listener.Start();
                return new ImdsStub(listener, endpoint);
            }
            catch (HttpListenerException) when (attempt < MaxBindAttempts)
            {
                listener.Close();
            }
        }
    }

    /// <summary>Every token issued so far stops working (as when its TTL ends): the next GET with it is 401.</summary>
    public void ExpireTokens()
    {
        foreach (var token in _tokens.Keys)
        {
            _tokens[token] = false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Close();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            // Each request on its own task, so that a hanging one does not hold the others.
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            var request = context.Request;
            var path = request.Url?.AbsolutePath ?? "/";
            _log.Enqueue(request.HttpMethod + " " + path);
            var (status, body) = Fault switch
            {
                ImdsFault.Hang => await HangAsync().ConfigureAwait(false),
                ImdsFault.ServerError => (500, "Internal Server Error"),
                _ => Answer(request.HttpMethod, path, request.Headers["X-aws-ec2-metadata-token-ttl-seconds"], request.Headers["X-aws-ec2-metadata-token"]),
            };
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/plain";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes, _stop.Token).ConfigureAwait(false);
            context.Response.Close();
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            context.Response.Abort();
        }
    }

    private async Task<(int, string)> HangAsync()
    {
        await Task.Delay(Timeout.Infinite, _stop.Token).ConfigureAwait(false);
        return (500, "unreachable");
    }

    private (int Status, string Body) Answer(string method, string path, string? ttl, string? token)
    {
        if (path == "/latest/api/token")
        {
            if (method != "PUT")
            {
                return (405, "Method Not Allowed");
            }

            Interlocked.Increment(ref _tokenRequests);
            if (Fault == ImdsFault.TokenForbidden)
            {
                return (403, "Forbidden");
            }

            if (!int.TryParse(ttl, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds is < 1 or > 21_600)
            {
                return (400, "Bad Request");
            }

            var issued = "stub-token-" + Guid.NewGuid().ToString("N");
            _tokens[issued] = true;
            return (200, issued);
        }

        if (method != "GET")
        {
            return (405, "Method Not Allowed");
        }

        if (token is null || !_tokens.TryGetValue(token, out var valid) || !valid || Fault == ImdsFault.AlwaysUnauthorized)
        {
            Interlocked.Increment(ref _untokenedRequests);
            return (401, "Unauthorized");
        }

        const string credentialsPrefix = "/latest/meta-data/iam/security-credentials/";
        switch (path)
        {
            case "/latest/dynamic/instance-identity/document":
                return IdentityDocumentMissing
                    ? (404, "Not Found")
                    : (200, $$"""{"accountId":"123456789012","architecture":"x86_64","availabilityZone":"{{Region}}a","imageId":"ami-0abc","instanceId":"i-0123456789abcdef0","instanceType":"t3.micro","privateIp":"10.0.0.1","region":"{{Region}}","version":"2017-09-30"}""");
            case "/latest/meta-data/placement/region":
                return (200, Region);
            case credentialsPrefix:
                return Role is null ? (404, "Not Found") : (200, Role + "\n");
        }

        if (path.StartsWith(credentialsPrefix, StringComparison.Ordinal) && Role is not null && path[credentialsPrefix.Length..] == Role)
        {
            Interlocked.Increment(ref _credentialRequests);
            var n = Interlocked.Increment(ref _credentialsIssued);
            var now = Time.GetUtcNow();
            var expires = (now + CredentialLifetime).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            var updated = now.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            return (200, $$"""
                {
                  "Code" : "{{CredentialCode}}",
                  "LastUpdated" : "{{updated}}",
                  "Type" : "AWS-HMAC",
                  "AccessKeyId" : "{{AccessKeyIdFor(n)}}",
                  "SecretAccessKey" : "stub-secret-{{n}}",
                  "Token" : "stub-session-token-{{n}}",
                  "Expiration" : "{{expires}}"
                }
                """);
        }

        return (404, "Not Found");
    }
}
