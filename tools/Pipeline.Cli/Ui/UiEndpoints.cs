using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Pipeline.Core.Graph;
using Pipeline.Core.Traces;
using Pipeline.Functions.CostReport;

namespace Pipeline.Cli.Ui;

/// <summary>
/// The UI's routes: pages (/search, /trace/{id}, /map, /reports, /quarantine) and the same data
/// as JSON under /api/. Every route is a GET; every parameter is validated before it reaches a
/// query (trace ids normalised, searches parsed by <see cref="TraceSearch.TryParse"/>, days and
/// windows checked); a bad one is a 400 that says which.
/// </summary>
internal sealed class UiEndpoints(UiArchive archive, TimeProvider time)
{
    public const string CssPath = "/assets/app.css";

    /// <summary>Longest service-map window (the graph job's own bound is a day).</summary>
    public static readonly TimeSpan MaxMapWindow = TimeSpan.FromDays(1);

    public static readonly TimeSpan DefaultMapWindow = TimeSpan.FromHours(1);

    /// <summary>Days of quarantine a page covers by default and at most.</summary>
    public const int DefaultQuarantineDays = 2;

    public const int MaxQuarantineDays = 31;

    public void Map(WebApplication app)
    {
        app.MapGet("/", () => Results.Redirect("/search"));
        app.MapGet(CssPath, () => Results.Text(UiPages.Css, "text/css; charset=utf-8"));
        app.MapGet("/search", (HttpRequest request) => Search(request));
        app.MapGet("/api/search", (HttpRequest request) => SearchApi(request));
        app.MapGet("/trace/{id}", (string id, CancellationToken ct) => Trace(id, ct));
        app.MapGet("/api/trace/{id}", (string id, CancellationToken ct) => TraceApi(id, ct));
        app.MapGet("/map", (HttpRequest request, CancellationToken ct) => Map(request, ct));
        app.MapGet("/api/map", (HttpRequest request, CancellationToken ct) => MapApi(request, ct));
        app.MapGet("/reports", (CancellationToken ct) => Reports(ct));
        app.MapGet("/api/reports", (CancellationToken ct) => ReportsApi(ct));
        app.MapGet("/reports/{day}/chart.png", (string day, CancellationToken ct) => ReportChart(day, ct));
        app.MapGet("/reports/{day}/report.html", (string day, HttpContext context, CancellationToken ct) => ReportHtml(day, context, ct));
        app.MapGet("/quarantine", (HttpRequest request) => Quarantine(request));
        app.MapGet("/api/quarantine", (HttpRequest request) => QuarantineApi(request));
        app.MapFallback(() => Results.Content(UiPages.Error("Not found", "There is no page here."), UiPages.HtmlContentType, statusCode: StatusCodes.Status404NotFound));
    }

    private IResult Search(HttpRequest request)
    {
        if (First(request, "trace") is { Length: > 0 } id)
        {
            return TraceIds.TryNormalize(id, out var normal)
                ? Results.Redirect("/trace/" + normal)
                : Page(UiPages.SearchPage(null, null, ["trace: not a trace id (1-<8 hex>-<24 hex> or 32 hex)"], Values(request)), StatusCodes.Status400BadRequest);
        }

        var search = TraceSearch.TryParse(Values(request), time.GetUtcNow(), out var errors);
        if (search is null)
        {
            return Page(UiPages.SearchPage(null, null, errors, Values(request)), StatusCodes.Status400BadRequest);
        }

        return Page(UiPages.SearchPage(search, archive.Search(search), [], Values(request)));
    }

    private BytesResult SearchApi(HttpRequest request)
    {
        var search = TraceSearch.TryParse(Values(request), time.GetUtcNow(), out var errors);
        if (search is null)
        {
            return Problem(errors);
        }

        var result = archive.Search(search);
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("query", search.ToQueryString());
            w.WriteString("from", TraceSearch.Iso(search.From));
            w.WriteString("to", TraceSearch.Iso(search.To));
            w.WriteNumber("matches", result.Matches);
            w.WriteNumber("bytes_read", result.BytesRead);
            w.WriteNumber("summarized_hours", result.SummarizedHours);
            w.WriteStartArray("traces");
            foreach (var t in result.Traces)
            {
                w.WriteStartObject();
                w.WriteString("trace_id", t.TraceId);
                w.WriteNumber("start_time", t.StartTime);
                w.WriteNumber("duration_ms", Math.Round(t.DurationSeconds * 1000, 3));
                w.WriteNumber("segments", t.Segments);
                w.WriteBoolean("error", t.Error);
                w.WriteBoolean("fault", t.Fault);
                w.WriteBoolean("throttle", t.Throttle);
                Optional(w, "root_service", t.RootService);
                Optional(w, "root_method", t.RootMethod);
                Optional(w, "root_url", t.RootUrl);
                if (t.RootStatus is { } status)
                {
                    w.WriteNumber("root_status", status);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("histogram");
            foreach (var (bucket, traces) in result.Histogram)
            {
                w.WriteStartObject();
                w.WriteNumber("from_ms", Math.Round(TraceSearchSql.BucketStartMs(bucket), 3));
                w.WriteNumber("to_ms", Math.Round(TraceSearchSql.BucketStartMs(bucket + 1), 3));
                w.WriteNumber("traces", traces);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private async Task<IResult> Trace(string id, CancellationToken cancellationToken)
    {
        if (!TraceIds.TryNormalize(id, out var normal))
        {
            return Page(UiPages.Error("Not a trace id", "Trace ids look like 1-5f84c7a3-0123456789abcdef01234567 (or 32 hex digits)."), StatusCodes.Status400BadRequest);
        }

        if (normal != id)
        {
            return Results.Redirect("/trace/" + normal, permanent: true);
        }

        var (tree, read) = await archive.TraceAsync(normal, cancellationToken).ConfigureAwait(false);
        return Page(UiPages.TracePage(tree, read), tree.IsEmpty ? StatusCodes.Status404NotFound : StatusCodes.Status200OK);
    }

    private async Task<BytesResult> TraceApi(string id, CancellationToken cancellationToken)
    {
        if (!TraceIds.TryNormalize(id, out var normal))
        {
            return Problem(["not a trace id"]);
        }

        var (tree, read) = await archive.TraceAsync(normal, cancellationToken).ConfigureAwait(false);
        return new BytesResult(TraceJson.ToUtf8(tree, read, includeDocuments: true), "application/json", tree.IsEmpty ? StatusCodes.Status404NotFound : StatusCodes.Status200OK);
    }

    private async Task<IResult> Map(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!TryWindow(request, DefaultMapWindow, MaxMapWindow, out var start, out var end, out var error))
        {
            return Page(UiPages.Error("Bad window", error), StatusCodes.Status400BadRequest);
        }

        var graph = await archive.GraphAsync(start, end, cancellationToken).ConfigureAwait(false);
        return Page(UiPages.MapPage(graph, start, end));
    }

    private async Task<IResult> MapApi(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!TryWindow(request, DefaultMapWindow, MaxMapWindow, out var start, out var end, out var error))
        {
            return Problem([error]);
        }

        var graph = await archive.GraphAsync(start, end, cancellationToken).ConfigureAwait(false);
        return Results.Bytes(ServiceGraphJson.Serialize(graph), "application/json");
    }

    private async Task<IResult> Reports(CancellationToken cancellationToken) =>
        Page(UiPages.ReportsPage(await archive.ReportsAsync(cancellationToken).ConfigureAwait(false)));

    private async Task<BytesResult> ReportsApi(CancellationToken cancellationToken)
    {
        var reports = await archive.ReportsAsync(cancellationToken).ConfigureAwait(false);
        return Json(w =>
        {
            w.WriteStartArray();
            foreach (var r in reports)
            {
                w.WriteStartObject();
                w.WriteString("day", r.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                if (r.HasChart)
                {
                    w.WriteString("chart", UiPages.ReportChartPath(r.Day));
                }

                if (r.HasHtml)
                {
                    w.WriteString("html", UiPages.ReportHtmlPath(r.Day));
                }

                if (r.Model is { } m)
                {
                    w.WriteNumber("month_to_date_usd", m.MonthToDate.Total);
                    w.WriteNumber("projected_usd", m.Projected.Total);
                    w.WriteNumber("savings_usd", m.Projected.Savings);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    private async Task<IResult> ReportChart(string day, CancellationToken cancellationToken)
    {
        if (!TryDay(day, out var d))
        {
            return Results.NotFound();
        }

        var bytes = await archive.ReportFileAsync(d, ReportKeys.Png(d), cancellationToken).ConfigureAwait(false);
        return bytes is null ? Results.NotFound() : Results.Bytes(bytes, "image/png");
    }

    private async Task<IResult> ReportHtml(string day, HttpContext context, CancellationToken cancellationToken)
    {
        if (!TryDay(day, out var d))
        {
            return Results.NotFound();
        }

        var bytes = await archive.ReportFileAsync(d, ReportKeys.Html(d), cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return Results.NotFound();
        }

        context.Response.Headers.ContentSecurityPolicy = UiServer.StoredReportPolicy;
        return Results.Bytes(bytes, UiPages.HtmlContentType);
    }

    private IResult Quarantine(HttpRequest request)
    {
        if (!TryDays(request, out var from, out var to, out var error))
        {
            return Page(UiPages.Error("Bad window", error), StatusCodes.Status400BadRequest);
        }

        return Page(UiPages.QuarantinePage(archive.Quarantine(from, to), from, to));
    }

    private BytesResult QuarantineApi(HttpRequest request)
    {
        if (!TryDays(request, out var from, out var to, out var error))
        {
            return Problem([error]);
        }

        var reasons = archive.Quarantine(from, to);
        return Json(w =>
        {
            w.WriteStartArray();
            foreach (var r in reasons)
            {
                w.WriteStartObject();
                w.WriteString("reason", r.Reason);
                w.WriteNumber("documents", r.Documents);
                w.WriteStartArray("samples");
                foreach (var s in r.Samples)
                {
                    w.WriteStartObject();
                    Optional(w, "path", s.Path);
                    w.WriteString("arrival_time", s.ArrivalTime);
                    Optional(w, "sequence_number", s.SequenceNumber);
                    w.WriteNumber("size", s.Size);
                    w.WriteString("document", s.Document);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }

    private bool TryWindow(HttpRequest request, TimeSpan defaultLength, TimeSpan maxLength, out DateTimeOffset start, out DateTimeOffset end, out string error)
    {
        var now = time.GetUtcNow();
        error = string.Empty;
        var values = Values(request);
        var search = TraceSearch.TryParse(name => name is "from" or "to" or "since" ? values(name) : [], now, out var errors);
        if (search is null)
        {
            start = end = now;
            error = string.Join("; ", errors);
            return false;
        }

        (start, end) = values("from").Count == 0 && values("to").Count == 0 && values("since").Count == 0
            ? (now - defaultLength, now)
            : (search.From, search.To);
        if (end - start > maxLength)
        {
            error = $"a map covers at most {TraceSearch.DurationText(maxLength)}";
            return false;
        }

        return true;
    }

    private bool TryDays(HttpRequest request, out DateOnly from, out DateOnly to, out string error)
    {
        error = string.Empty;
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        from = today.AddDays(1 - DefaultQuarantineDays);
        to = today;
        if (First(request, "from") is { Length: > 0 } f && !TryDay(f, out from))
        {
            error = "from: use yyyy-MM-dd";
        }
        else if (First(request, "to") is { Length: > 0 } t && !TryDay(t, out to))
        {
            error = "to: use yyyy-MM-dd";
        }
        else if (to < from || to.DayNumber - from.DayNumber >= MaxQuarantineDays)
        {
            error = $"from..to: at most {MaxQuarantineDays} days, in order";
        }

        return error.Length == 0;
    }

    private static bool TryDay(string text, out DateOnly day) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);

    private static string? First(HttpRequest request, string name) => request.Query[name] is { Count: > 0 } v ? v[0] : null;

    private static Func<string, IReadOnlyList<string>> Values(HttpRequest request) =>
        name => request.Query[name].Where(v => v is not null).Select(v => v!).ToList();

    private static IResult Page(string html, int status = StatusCodes.Status200OK) => Results.Content(html, UiPages.HtmlContentType, statusCode: status);

    private static BytesResult Problem(IReadOnlyList<string> errors) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("errors");
        foreach (var e in errors)
        {
            w.WriteStringValue(e);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }, StatusCodes.Status400BadRequest);

    private static BytesResult Json(Action<Utf8JsonWriter> write, int status = StatusCodes.Status200OK)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return new BytesResult(buffer.ToArray(), "application/json", status);
    }

    private static void Optional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    /// <summary>A body with a content type and any status (Results.Bytes has no status).</summary>
    private sealed class BytesResult(byte[] body, string contentType, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = contentType;
            httpContext.Response.ContentLength = body.Length;
            return httpContext.Response.Body.WriteAsync(body, httpContext.RequestAborted).AsTask();
        }
    }
}
