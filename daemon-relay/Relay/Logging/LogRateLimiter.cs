using Pipeline.Runtime.Logging;
namespace Relay.Logging;

/// <summary>
/// Lets at most <see cref="LinesPerWindow"/> lines of one kind through per window and then counts
/// the rest, writing one line with the number suppressed when the next window opens. For lines a
/// client can trigger at will (malformed requests, failing handlers): a flood of bad requests must
/// not become a flood of log lines. Kinds are the caller's constants, so the table stays small.
/// </summary>
public sealed class LogRateLimiter(JsonLog log, TimeProvider time)
{
    public const int LinesPerWindow = 5;

    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    /// <summary>Kinds tracked at once; beyond it a new kind is written without limit tracking (never reached by our constants).</summary>
    private const int MaxKinds = 256;

    private readonly Dictionary<string, State> _kinds = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public void Write(LogSeverity severity, string kind, string message, params ReadOnlySpan<(string Key, object? Value)> fields)
    {
        if (!log.IsEnabled(severity))
        {
            return;
        }

        long suppressed = 0;
        lock (_lock)
        {
            var now = time.GetTimestamp();
            if (_kinds.TryGetValue(kind, out var state) || _kinds.Count < MaxKinds)
            {
                if (state is null)
                {
                    state = new State { WindowStart = now };
                    _kinds[kind] = state;
                }

                if (time.GetElapsedTime(state.WindowStart, now) >= Window)
                {
                    suppressed = state.Suppressed;
                    state.WindowStart = now;
                    state.Lines = 0;
                    state.Suppressed = 0;
                }

                if (state.Lines >= LinesPerWindow)
                {
                    state.Suppressed++;
                    return;
                }

                state.Lines++;
            }
        }

        if (suppressed > 0)
        {
            log.Write(severity, "similar log lines suppressed", [("kind", kind), ("suppressed", suppressed), ("window_s", Window.TotalSeconds)]);
        }

        log.Write(severity, message, fields);
    }

    private sealed class State
    {
        public long WindowStart;
        public int Lines;
        public long Suppressed;
    }
}
