using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Pipeline.Functions.Events;
using Pipeline.Lambda;

namespace Pipeline.Cli.Local;

/// <summary>
/// A scheduled function (service-graph, cost-report) run in-process on a timer with the
/// EventBridge scheduled event, as its schedule rule would; or once, now, by a command.
/// One caller at a time (the timer loop runs invocations one after another).
/// </summary>
internal sealed class ScheduledFunction(string name, ILambdaHandler handler, string region, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(15);

    public string Name => name;

    public long Runs { get; private set; }

    public long Failures { get; private set; }

    /// <summary>The last successful response body (the handler's result JSON).</summary>
    public string? LastResult { get; private set; }

    /// <summary>Invokes the function now; <paramref name="detail"/> is the event's detail object (null: <c>{}</c>).</summary>
    public async Task<string> InvokeAsync(string? detail, CancellationToken cancellationToken)
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
                try
                {
                    await InvokeAsync(null, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "{Function} failed; next run in {Interval}", name, interval);
                }
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
