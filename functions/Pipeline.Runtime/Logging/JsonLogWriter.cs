using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Pipeline.Runtime.Logging;

/// <summary>Log levels, named as Lambda's JSON log format names them (AWS_LAMBDA_LOG_LEVEL).</summary>
public enum LogSeverity
{
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

/// <summary>An exception as a log line carries it (Lambda's errorType / errorMessage / stackTrace).</summary>
public sealed record LogError(string Type, string Message, IReadOnlyList<string> StackTrace);

/// <summary>
/// THE log writer of every executable (relay, bootstrap, CLI local mode): one JSON object a line,
/// <c>{"timestamp","level","message"[,"requestId"][,fields...][,"errorType","errorMessage","stackTrace"]}</c>.
/// The schema is Lambda's JSON log format (source: AWS Lambda developer guide, "Configuring JSON and
/// plain text log formats"), so Lambda's log-level filter and CloudWatch Logs Insights read the
/// functions' lines as they are, and the relay's and the functions' lines in local mode read alike.
/// Timestamps are UTC with milliseconds; levels upper case (TRACE … FATAL). A field whose key is one
/// of the schema's own is written as <c>field_&lt;key&gt;</c>, so a line never has a key twice; a
/// non-finite number is written as a string (JSON has no NaN). Lines from concurrent writers never
/// interleave. Logging is off the hot paths, so one lock around one buffer is enough.
/// </summary>
public sealed class JsonLogWriter
{
    public const string TimestampKey = "timestamp";
    public const string LevelKey = "level";
    public const string MessageKey = "message";
    public const string RequestIdKey = "requestId";
    public const string ErrorTypeKey = "errorType";
    public const string ErrorMessageKey = "errorMessage";
    public const string StackTraceKey = "stackTrace";

    /// <summary>Prefix of a field whose key collides with one of the schema's keys.</summary>
    public const string CollisionPrefix = "field_";

    private readonly Stream _output;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);

    public JsonLogWriter(Stream output, TimeProvider time, LogSeverity minimum)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(time);
        _output = output;
        _time = time;
        Minimum = minimum;
    }

    /// <summary>A writer that writes nowhere (tests, benches).</summary>
    public static JsonLogWriter Null { get; } = new(Stream.Null, TimeProvider.System, LogSeverity.Fatal);

    public LogSeverity Minimum { get; }

    public bool IsEnabled(LogSeverity severity) => severity >= Minimum;

    /// <summary>The schema's name of <paramref name="severity"/> ("INFO").</summary>
    public static string Name(LogSeverity severity) => severity switch
    {
        LogSeverity.Trace => "TRACE",
        LogSeverity.Debug => "DEBUG",
        LogSeverity.Info => "INFO",
        LogSeverity.Warn => "WARN",
        LogSeverity.Error => "ERROR",
        _ => "FATAL",
    };

    /// <summary>
    /// Reads a level name in any case (TRACE, DEBUG, INFO, WARN or WARNING, ERROR, FATAL);
    /// null for anything else, so the caller decides the default or the error.
    /// </summary>
    public static LogSeverity? Parse(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        "TRACE" => LogSeverity.Trace,
        "DEBUG" => LogSeverity.Debug,
        "INFO" => LogSeverity.Info,
        "WARN" or "WARNING" => LogSeverity.Warn,
        "ERROR" => LogSeverity.Error,
        "FATAL" => LogSeverity.Fatal,
        _ => null,
    };

    public void Write(LogSeverity severity, string message, params ReadOnlySpan<(string Key, object? Value)> fields) =>
        Write(severity, message, requestId: null, error: null, fields);

    public void Write(LogSeverity severity, string message, string? requestId, LogError? error, ReadOnlySpan<(string Key, object? Value)> fields)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!IsEnabled(severity))
        {
            return;
        }

        lock (_lock)
        {
            _buffer.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(_buffer))
            {
                WriteLine(json, severity, message, requestId, error, fields);
            }

            _buffer.Write("\n"u8);
            _output.Write(_buffer.WrittenSpan);
            _output.Flush();
        }
    }

    private void WriteLine(Utf8JsonWriter json, LogSeverity severity, string message, string? requestId, LogError? error, ReadOnlySpan<(string Key, object? Value)> fields)
    {
        json.WriteStartObject();
        json.WriteString(TimestampKey, _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        json.WriteString(LevelKey, Name(severity));
        json.WriteString(MessageKey, message);
        if (requestId is not null)
        {
            json.WriteString(RequestIdKey, requestId);
        }

        foreach (var (key, value) in fields)
        {
            WriteField(json, IsSchemaKey(key) ? CollisionPrefix + key : key, value);
        }

        if (error is not null)
        {
            json.WriteString(ErrorTypeKey, error.Type);
            json.WriteString(ErrorMessageKey, error.Message);
            json.WriteStartArray(StackTraceKey);
            foreach (var frame in error.StackTrace)
            {
                json.WriteStringValue(frame);
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    private static bool IsSchemaKey(string key) => key is TimestampKey or LevelKey or MessageKey or RequestIdKey or ErrorTypeKey or ErrorMessageKey or StackTraceKey;

    private static void WriteField(Utf8JsonWriter json, string key, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(key);
                break;
            case string s:
                json.WriteString(key, s);
                break;
            case bool b:
                json.WriteBoolean(key, b);
                break;
            case int i:
                json.WriteNumber(key, i);
                break;
            case long l:
                json.WriteNumber(key, l);
                break;
            case double d when double.IsFinite(d):
                json.WriteNumber(key, d);
                break;
            case TimeSpan t:
                json.WriteNumber(key, t.TotalSeconds);
                break;
            case DateTimeOffset at:
                json.WriteString(key, at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                break;
            default:
                json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
