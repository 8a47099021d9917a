using Microsoft.Extensions.Logging;
using Pipeline.Runtime.Logging;

namespace Pipeline.Lambda.Logging;

/// <summary>
/// The functions' <see cref="ILogger"/>: lines in the one log schema, written by
/// <see cref="JsonLogWriter"/> (Lambda's JSON log format), tagged with the request id and carrying
/// the message template's named values as fields ("{Shard}" → <c>"Shard": "…"</c>) so CloudWatch
/// Logs Insights can filter on them. Thread-safe: lines from concurrent writers never interleave.
/// </summary>
public sealed class JsonLineLogger : ILogger
{
    /// <summary>The key Microsoft.Extensions.Logging gives the message template in a state's values (not a field).</summary>
    private const string OriginalFormatKey = "{OriginalFormat}";

    private readonly JsonLogWriter _writer;
    private readonly string? _requestId;

    public JsonLineLogger(Stream output, TimeProvider timeProvider, LogLevel minimumLevel)
        : this(new JsonLogWriter(output, timeProvider, ToSeverity(minimumLevel)), requestId: null)
    {
        MinimumLevel = minimumLevel;
    }

    private JsonLineLogger(JsonLogWriter writer, string? requestId)
    {
        _writer = writer;
        _requestId = requestId;
    }

    public LogLevel MinimumLevel { get; private init; }

    /// <summary>A logger writing to the same output that tags every line with <paramref name="requestId"/>.</summary>
    public JsonLineLogger ForRequest(string requestId) => new(_writer, requestId) { MinimumLevel = MinimumLevel };

    /// <summary>Maps AWS_LAMBDA_LOG_LEVEL (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) to a level; default Information.</summary>
    public static LogLevel ParseLevel(string? value) => JsonLogWriter.Parse(value) switch
    {
        LogSeverity.Trace => LogLevel.Trace,
        LogSeverity.Debug => LogLevel.Debug,
        LogSeverity.Warn => LogLevel.Warning,
        LogSeverity.Error => LogLevel.Error,
        LogSeverity.Fatal => LogLevel.Critical,
        _ => LogLevel.Information,
    };

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= MinimumLevel;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (!IsEnabled(logLevel))
        {
            return;
        }

        LogError? error = null;
        if (exception is not null)
        {
            var lambdaError = LambdaError.FromException(exception);
            error = new LogError(lambdaError.ErrorType, lambdaError.ErrorMessage, lambdaError.StackTrace);
        }

        _writer.Write(ToSeverity(logLevel), formatter(state, exception), _requestId, error, FieldsOf(state));
    }

    private static (string Key, object? Value)[] FieldsOf<TState>(TState state)
    {
        if (state is not IReadOnlyList<KeyValuePair<string, object?>> values || values.Count <= 1)
        {
            return [];
        }

        var fields = new List<(string Key, object? Value)>(values.Count);
        foreach (var (key, value) in values)
        {
            if (key != OriginalFormatKey)
            {
                fields.Add((key, value));
            }
        }

        return [.. fields];
    }

    private static LogSeverity ToSeverity(LogLevel level) => level switch
    {
        LogLevel.Trace => LogSeverity.Trace,
        LogLevel.Debug => LogSeverity.Debug,
        LogLevel.Information => LogSeverity.Info,
        LogLevel.Warning => LogSeverity.Warn,
        LogLevel.Error => LogSeverity.Error,
        _ => LogSeverity.Fatal,
    };
}
