using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Pipeline.Cli.Ui;

/// <summary>
/// The <c>pipeline ui</c> web app: Kestrel on 127.0.0.1 only, GET and HEAD only (there is
/// nothing to write), every page rendered on the server with every value escaped, no script at
/// all and a CSP that says so, one stylesheet served by the app itself, and a Host check so a
/// web page elsewhere cannot reach it through DNS rebinding. No credentials are ever read into a
/// page: the UI reads a local archive directory.
/// </summary>
internal sealed class UiServer : IAsyncDisposable
{
    /// <summary>Every page and API answer carries this policy: nothing but our own stylesheet and images.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>The stored report page is the e-mail's HTML (inline styles, a data: chart), shown sandboxed.</summary>
    public const string StoredReportPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox";

    private readonly WebApplication _app;

    private UiServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>http://127.0.0.1:&lt;port&gt;/</summary>
    public Uri Address { get; }

    public static async Task<UiServer> StartAsync(UiArchive archive, TimeProvider time, int port, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(archive);
        // The empty builder reads no configuration (no environment, no appsettings): the binding below is the only one.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port);
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestLineSize = 8 * 1024;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            kestrel.Limits.MaxRequestBodySize = 0;
            kestrel.Limits.MaxConcurrentConnections = 64;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
        });
        builder.Services.AddRoutingCore();
        var app = builder.Build();
        app.Use(Guard);
        app.UseRouting();
        new UiEndpoints(archive, time).Map(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var actualPort = new Uri(bound).Port;
        return new UiServer(app, new Uri($"http://127.0.0.1:{actualPort}/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Security headers on everything; only GET/HEAD; only our own Host (DNS rebinding); errors never leak detail.</summary>
    private static async Task Guard(HttpContext context, RequestDelegate next)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()";
        headers.CacheControl = "no-store";

        var host = context.Request.Host;
        if (!host.HasValue || host.Host is not ("127.0.0.1" or "localhost") || host.Port != context.Connection.LocalPort)
        {
            await Plain(context, StatusCodes.Status421MisdirectedRequest, "this server answers only to http://127.0.0.1:" + context.Connection.LocalPort + "/").ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            headers.Allow = "GET, HEAD";
            // The body is never read: close the connection rather than leave it for the client to reuse.
            headers.Connection = "close";
            await Plain(context, StatusCodes.Status405MethodNotAllowed, "read-only: GET and HEAD only").ConfigureAwait(false);
            return;
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            // The message may hold application strings; the page escapes it. No stack trace leaves the process.
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Response.ContentType = UiPages.HtmlContentType;
            await context.Response.WriteAsync(UiPages.Error("Something went wrong reading the archive", e.GetType().Name + ": " + e.Message), context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static Task Plain(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n", Encoding.UTF8, context.RequestAborted);
    }
}
