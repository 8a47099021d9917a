using Pipeline.Runtime.Logging;
using Relay.Config;

namespace Relay.Logging;

/// <summary>
/// The relay's structured log: the relay's level names (<see cref="RelayLogLevel"/>, as the X-Ray
/// daemon's <c>--log-level</c> names them) over the one log writer of every executable,
/// <see cref="JsonLogWriter"/>, so the relay's lines carry the same schema as the functions'
/// (<c>timestamp</c>, <c>level</c> upper case, <c>message</c>, fields) and read alike side by side in
/// local mode. Logging is off the hot path (start, stop, state changes, errors).
/// </summary>
public sealed class JsonLog
{
    private readonly JsonLogWriter _writer;

    public JsonLog(Stream output, TimeProvider time, RelayLogLevel level) =>
        _writer = new JsonLogWriter(output, time, level switch
        {
            RelayLogLevel.Dev or RelayLogLevel.Debug => LogSeverity.Debug,
            RelayLogLevel.Warn => LogSeverity.Warn,
            RelayLogLevel.Error => LogSeverity.Error,
            _ => LogSeverity.Info,
        });

    /// <summary>A log that writes nowhere (tests, benches).</summary>
    public static JsonLog Null { get; } = new(Stream.Null, TimeProvider.System, RelayLogLevel.Error);

    public bool IsEnabled(LogSeverity severity) => _writer.IsEnabled(severity);

    public void Debug(string message, params ReadOnlySpan<(string Key, object? Value)> fields) => _writer.Write(LogSeverity.Debug, message, fields);

    public void Info(string message, params ReadOnlySpan<(string Key, object? Value)> fields) => _writer.Write(LogSeverity.Info, message, fields);

    public void Warn(string message, params ReadOnlySpan<(string Key, object? Value)> fields) => _writer.Write(LogSeverity.Warn, message, fields);

    public void Error(string message, params ReadOnlySpan<(string Key, object? Value)> fields) => _writer.Write(LogSeverity.Error, message, fields);

    public void Write(LogSeverity severity, string message, ReadOnlySpan<(string Key, object? Value)> fields) => _writer.Write(severity, message, fields);
}
