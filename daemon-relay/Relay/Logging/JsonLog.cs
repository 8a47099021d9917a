using System.Globalization;
using System.Text.Json;
using Relay.Config;

namespace Relay.Logging;

public enum LogSeverity
{
    Debug,
    Info,
    Warn,
    Error,
}

/// <summary>
/// Structured logs: one JSON object a line ({"time","level","msg", fields...}) to stdout, written
/// with Utf8JsonWriter so nothing is reflected over. Logging is off the hot path (start, stop,
/// state changes, errors), so a lock around the shared writer is enough.
/// </summary>
public sealed class JsonLog : IDisposable
{
    private readonly Stream _output;
    private readonly TimeProvider _time;
    private readonly LogSeverity _minimum;
    private readonly Lock _lock = new();
    private readonly Utf8JsonWriter _writer;

    public JsonLog(Stream output, TimeProvider time, RelayLogLevel level)
    {
        _output = output;
        _time = time;
        _minimum = level switch
        {
            RelayLogLevel.Dev or RelayLogLevel.Debug => LogSeverity.Debug,
            RelayLogLevel.Warn => LogSeverity.Warn,
            RelayLogLevel.Error => LogSeverity.Error,
            _ => LogSeverity.Info,
        };
        _writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
    }

    /// <summary>A log that writes nowhere (tests, benches).</summary>
    public static JsonLog Null { get; } = new(Stream.Null, TimeProvider.System, RelayLogLevel.Error);

    public void Dispose() => _writer.Dispose();

    public bool IsEnabled(LogSeverity severity) => severity >= _minimum;

    public void Debug(string message, params ReadOnlySpan<(string Key, object? Value)> fields) => Write(LogSeverity.Debug, message, fields);

    public void Info(string message, params ReadOnlySpan<(string Key, object? Value)> fields) => Write(LogSeverity.Info, message, fields);

    public void Warn(string message, params ReadOnlySpan<(string Key, object? Value)> fields) => Write(LogSeverity.Warn, message, fields);

    public void Error(string message, params ReadOnlySpan<(string Key, object? Value)> fields) => Write(LogSeverity.Error, message, fields);

    public void Write(LogSeverity severity, string message, ReadOnlySpan<(string Key, object? Value)> fields)
    {
        if (!IsEnabled(severity))
        {
            return;
        }

        lock (_lock)
        {
            _writer.Reset(_output);
            _writer.WriteStartObject();
            _writer.WriteString("time", _time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            _writer.WriteString("level", severity switch
            {
                LogSeverity.Debug => "debug",
                LogSeverity.Info => "info",
                LogSeverity.Warn => "warn",
                _ => "error",
            });
            _writer.WriteString("msg", message);
            foreach (var (key, value) in fields)
            {
                switch (value)
                {
                    case null:
                        _writer.WriteNull(key);
                        break;
                    case string s:
                        _writer.WriteString(key, s);
                        break;
                    case bool b:
                        _writer.WriteBoolean(key, b);
                        break;
                    case int i:
                        _writer.WriteNumber(key, i);
                        break;
                    case long l:
                        _writer.WriteNumber(key, l);
                        break;
                    case double d:
                        _writer.WriteNumber(key, d);
                        break;
                    case TimeSpan t:
                        _writer.WriteNumber(key, t.TotalSeconds);
                        break;
                    default:
                        _writer.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                        break;
                }
            }

            _writer.WriteEndObject();
            _writer.Flush();
            _output.WriteByte((byte)'\n');
            _output.Flush();
        }
    }
}
