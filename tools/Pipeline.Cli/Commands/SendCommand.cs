using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Pipeline.Cli.Local;
using Pipeline.Cli.Send;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline send</c>: synthetic traces (or the documents of <c>--file</c>s) to the relay's UDP
/// address from stack.json, as an SDK would send them; with <c>--otlp</c>, synthetic OpenTelemetry
/// spans as OTLP/HTTP protobuf to the relay's OTLP receiver, as an OTel SDK exporter would.
/// </summary>
internal static class SendCommand
{
    public const int MaxTraces = 1_000_000;
    public const int MaxSegmentsPerTrace = 100;

    /// <summary>Traces per OTLP export request (an SDK's batch processor exports up to 512 spans at a time).</summary>
    public const int OtlpTracesPerRequest = 100;

    public static Command Create(CliContext context)
    {
        var traces = CommandOptions.Bounded("--traces", "Synthetic traces to send", 10, 1, MaxTraces);
        var segments = CommandOptions.Bounded("--segments", "Segments (services) per trace, linked parent to child", 3, 1, MaxSegmentsPerTrace);
        var invalid = new Option<double>("--invalid") { Description = "Share of documents (0..1) sent invalid, for the quarantine", DefaultValueFactory = _ => 0 };
        var faults = new Option<double>("--faults") { Description = "Share of traces (0..1) whose last service answers 500", DefaultValueFactory = _ => 0 };
        var files = new Option<string[]>("--file", "-f") { Description = "Send these files instead: a JSON document, or NDJSON (one document per line); repeatable" };
        var seed = new Option<int?>("--seed") { Description = "Random seed (ids, which documents are invalid)" };
        var udp = new Option<IPEndPoint?>("--udp") { Description = "Relay UDP address (default: from stack.json, else 127.0.0.1:2000)", CustomParser = r => CommandOptions.ParseEndpoint(r), HelpName = "host:port" };
        var otlp = new Option<bool>("--otlp") { Description = "Send OpenTelemetry spans over OTLP/HTTP protobuf instead of X-Ray segments over UDP" };
        var otlpHttp = new Option<IPEndPoint?>("--otlp-http") { Description = "Relay OTLP/HTTP address (default: from stack.json, else 127.0.0.1:4318)", CustomParser = r => CommandOptions.ParseEndpoint(r), HelpName = "host:port" };
        var printIds = new Option<bool>("--print-trace-ids") { Description = "Print each trace id sent, one per line" };
        var stateDir = CommandOptions.StateDir();

        var command = new Command("send", "Send synthetic or file-supplied segment documents to the relay over UDP");
        foreach (var option in new Option[] { traces, segments, invalid, faults, files, seed, udp, otlp, otlpHttp, printIds, stateDir })
        {
            command.Add(option);
        }

        command.Validators.Add(result =>
        {
            if (result.GetValue(otlp) && (result.GetValue(files) is { Length: > 0 } || result.GetValue(invalid) > 0))
            {
                result.AddError("--otlp sends synthetic valid spans: --file and --invalid are for X-Ray segments over UDP");
            }

            foreach (var share in new[] { invalid, faults })
            {
                if (result.GetResult(share) is { } given && given.GetValueOrDefault<double>() is < 0 or > 1)
                {
                    result.AddError($"{share.Name} is a share between 0 and 1");
                }
            }
        });

        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            if (parse.GetValue(otlp))
            {
                var address = parse.GetValue(otlpHttp)
                    ?? (StackFile.TryRead(context.Paths(parse.GetValue(stateDir)).StackFile)?.Relay.OtlpHttp is { } fromStack ? IPEndPoint.Parse(fromStack) : null)
                    ?? new IPEndPoint(IPAddress.Loopback, 4318);
                return await SendOtlpAsync(context, parse, address, parse.GetValue(traces), parse.GetValue(segments), parse.GetValue(faults), parse.GetValue(seed), parse.GetValue(printIds), cancellationToken).ConfigureAwait(false);
            }

            var target = parse.GetValue(udp)
                ?? (StackFile.TryRead(context.Paths(parse.GetValue(stateDir)).StackFile) is { } stack ? IPEndPoint.Parse(stack.Relay.Udp) : null)
                ?? new IPEndPoint(IPAddress.Loopback, 2000);
            using var sender = new DatagramSender(target);
            var fileList = parse.GetValue(files) ?? [];
            try
            {
                if (fileList.Length > 0)
                {
                    var (sent, skipped) = await SendFilesAsync(sender, fileList, cancellationToken).ConfigureAwait(false);
                    await output.WriteLineAsync($"sent {sent} document(s) from {fileList.Length} file(s) to {target}" + (skipped > 0 ? $"; {skipped} skipped (over the 64 KiB datagram limit)" : "")).ConfigureAwait(false);
                    return skipped > 0 ? 1 : 0;
                }

                var random = parse.GetValue(seed) is { } s ? new Random(s) : new Random();
                var generator = new SyntheticTraces(random, context.Time);
                long documents = 0, invalidSent = 0;
                var invalidShare = parse.GetValue(invalid);
                var faultShare = parse.GetValue(faults);
                var kinds = Enum.GetValues<InvalidKind>();
                for (var t = 0; t < parse.GetValue(traces); t++)
                {
                    var traceId = generator.NewTraceId();
                    foreach (var document in generator.Trace(parse.GetValue(segments), traceId, fault: random.NextDouble() < faultShare))
                    {
                        if (random.NextDouble() < invalidShare)
                        {
                            await sender.SendAsync(generator.Invalid(kinds[invalidSent % kinds.Length]), cancellationToken).ConfigureAwait(false);
                            invalidSent++;
                        }
                        else
                        {
                            await sender.SendAsync(document, cancellationToken).ConfigureAwait(false);
                        }

                        documents++;
                    }

                    if (parse.GetValue(printIds))
                    {
                        await output.WriteLineAsync(traceId).ConfigureAwait(false);
                    }
                }

                await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"sent {documents} segment(s) in {parse.GetValue(traces)} trace(s) to {target} ({invalidSent} invalid)")).ConfigureAwait(false);
                return 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
            {
                await error.WriteLineAsync("pipeline send: " + e.Message).ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> SendOtlpAsync(CliContext context, ParseResult parse, IPEndPoint address, int traces, int services, double faultShare, int? seed, bool printIds, CancellationToken cancellationToken)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        var random = seed is { } s ? new Random(s) : new Random();
        var generator = new SyntheticOtlpTraces(random, context.Time);
        var sender = new OtlpHttpSender(context.Http, new Uri($"http://{address}/"), context.Time);
        long spans = 0, requests = 0, retried = 0, rejected = 0;
        try
        {
            for (var first = 0; first < traces; first += OtlpTracesPerRequest)
            {
                var request = new Pipeline.Core.Otlp.OtlpTraceRequest();
                var requestSpans = 0;
                for (var t = first; t < Math.Min(traces, first + OtlpTracesPerRequest); t++)
                {
                    var traceId = generator.NewTraceId();
                    requestSpans += generator.AddTrace(request, services, traceId, fault: random.NextDouble() < faultShare);
                    if (printIds)
                    {
                        await output.WriteLineAsync(Pipeline.Core.Otlp.OtlpIds.ToXRayTraceId(traceId)).ConfigureAwait(false);
                    }
                }

                var result = await sender.ExportAsync(request, cancellationToken).ConfigureAwait(false);
                if (!result.Ok)
                {
                    await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"pipeline send --otlp: {sender.TracesUrl} answered {result.Status} after {result.Attempts} attempt(s): {result.Detail.Trim()} (sent before: {spans} span(s) in {requests} request(s))")).ConfigureAwait(false);
                    return 1;
                }

                retried += result.Attempts - 1;
                rejected += result.RejectedSpans;
                if (result.RejectedSpans > 0 || result.Detail.Length > 0)
                {
                    await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"pipeline send --otlp: {sender.TracesUrl} refused {result.RejectedSpans} of {requestSpans} span(s): {result.Detail}")).ConfigureAwait(false);
                }

                spans += requestSpans - result.RejectedSpans;
                requests++;
            }
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"pipeline send --otlp: {sender.TracesUrl}: {e.Message} (is `pipeline up` running with OTLP on?)").ConfigureAwait(false);
            return 1;
        }

        await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"sent {spans} span(s) in {traces} trace(s) as {requests} OTLP/HTTP request(s) to {sender.TracesUrl} ({retried} retried, {rejected} span(s) refused)")).ConfigureAwait(false);
        return rejected == 0 ? 0 : 1;
    }

    private static async Task<(long Sent, long Skipped)> SendFilesAsync(DatagramSender sender, IEnumerable<string> files, CancellationToken cancellationToken)
    {
        long sent = 0, skipped = 0;
        foreach (var file in files)
        {
            var text = await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
            foreach (var document in Documents(text))
            {
                if (await sender.SendAsync(document, cancellationToken).ConfigureAwait(false))
                {
                    sent++;
                }
                else
                {
                    skipped++;
                }
            }
        }

        return (sent, skipped);
    }

    /// <summary>One document when the whole text is JSON (pretty-printed is fine: it is sent compacted), else one per non-empty line.</summary>
    internal static IEnumerable<byte[]> Documents(string text)
    {
        var whole = Compact(text);
        if (whole is not null)
        {
            return [whole];
        }

        return text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Select(l => Compact(l) ?? Encoding.UTF8.GetBytes(l));
    }

    private static byte[]? Compact(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return JsonSerializer.SerializeToUtf8Bytes(document.RootElement, Pipeline.Cli.Output.CliJsonContext.Default.JsonElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
