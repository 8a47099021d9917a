using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Pipeline.Functions.Events;
using Pipeline.Lambda;

namespace Pipeline.Cli.Local;

/// <summary>
/// A scheduled function (service-graph, cost-report) run in-process on a timer with the
/// EventBridge scheduled event, as its schedule rule would; or once, now, by a command.
/// One invocation at a time: a tick that finds one running is skipped, as a slow function would
/// make EventBridge's next invocation overlap otherwise.
/// </summary>
internal sealed class ScheduledFunction(string name, ILambdaHandler handler, string region, TimeProvider time, ILogger logger, Func<DateTimeOffset, string>? scheduledDetail = null)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(15);

    public string Name => name;

    private int _running;

    public long Runs { get; private set; }

    public long Skipped { get; private set; }

    public long Failures { get; private set; }

    /// <summary>The last successful response body (the handler's result JSON).</summary>
    public string? LastResult { get; private set; }

    /// <summary>Invokes the function now unless it is running (then null); failures are logged and counted, never thrown.</summary>
    public async Task<string?> TryInvokeAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            Skipped++;
            return null;
        }

        try
        {
            return await InvokeCoreAsync(scheduledDetail?.Invoke(time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "{Function} failed", name);
            return null;
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>Invokes the function now; <paramref name="detail"/> is the event's detail object (null: <c>{}</c>).</summary>
    public Task<string> InvokeAsync(string? detail, CancellationToken cancellationToken) => InvokeCoreAsync(detail, cancellationToken);

    private async Task<string> InvokeCoreAsync(string? detail, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        using var deadline = new CancellationTokenSource(Timeout, time);
        var context = new InvocationContext(Guid.NewGuid().ToString(), now + Timeout, null, null, time, logger, deadline.Token);
        using var input = new MemoryStream(Event(now, detail), writable: false);
        try
        {
            var output = await handler.HandleAsync(input, context).ConfigureAwait(false);
            await using (output.ConfigureAwait(false))
            {
                using var reader = new StreamReader(output, Encoding.UTF8);
                LastResult = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                Runs++;
                return LastResult;
            }
        }
        catch
        {
            Failures++;
            throw;
        }
    }

    /// <summary>Runs every <paramref name="interval"/> until cancelled; failures are logged and counted, never fatal.</summary>
    public async Task RunEveryAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await TryInvokeAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private byte[] Event(DateTimeOffset now, string? detail)
    {
        var scheduled = new ScheduledEvent
        {
            Id = Guid.NewGuid().ToString(),
            DetailType = ScheduledEvent.ScheduledDetailType,
            Source = ScheduledEvent.EventsSource,
            Time = now,
            Version = "0",
            Account = StackNames.AccountId,
            Region = region,
            Resources = [$"arn:aws:events:{region}:{StackNames.AccountId}:rule/xray-pipeline-{name}-local"],
            Detail = JsonDocument.Parse(detail ?? "{}").RootElement.Clone(),
        };
        return JsonSerializer.SerializeToUtf8Bytes(scheduled, EventsJsonContext.Default.ScheduledEvent);
    }
}
