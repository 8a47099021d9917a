using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace Pipeline.Aws.Tests.Support;

/// <summary>
/// A FakeTimeProvider that records every timer's due time, so retry tests can read the exact
/// backoff the client asked for and advance fake time past it (no real waiting).
/// </summary>
internal sealed class RecordingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly ConcurrentQueue<TimeSpan> _dueTimes = new();

    public IReadOnlyList<TimeSpan> DueTimes => [.. _dueTimes];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        _dueTimes.Enqueue(dueTime);
        return base.CreateTimer(callback, state, dueTime, period);
    }

    /// <summary>
    /// Drives <paramref name="task"/> to completion: each time the client starts a backoff timer,
    /// advance fake time by exactly that delay. Bounded in steps and in real time.
    /// </summary>
    public async Task<T> RunAsync<T>(Task<T> task)
    {
        await RunAsync((Task)task);
        return await task;
    }

    public async Task RunAsync(Task task)
    {
        var advanced = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!task.IsCompleted && DateTime.UtcNow < deadline)
        {
            var due = DueTimes;
            if (due.Count > advanced)
            {
                Advance(due[advanced++]);
                continue;
            }

            await Task.Delay(1);
        }

        if (!task.IsCompleted)
        {
            throw new TimeoutException("The call neither finished nor started a timer.");
        }
    }
}
