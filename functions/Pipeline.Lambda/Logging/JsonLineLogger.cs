using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Pipeline.Lambda.Logging;

/// <summary>
/// Writes one JSON object per line (timestamp, level, requestId, message, error), the shape of
/// Lambda's JSON log format, so CloudWatch Logs Insights can filter on the fields.
/// Thread-safe: lines from concurrent writers never interleave.
/// </summary>
public sealed class JsonLineLogger : ILogger
{
    private readonly Sink _sink;
    private readonly string? _requestId;

    public JsonLineLogger(Stream output, TimeProvider timeProvider, LogLevel minimumLevel)
        : this(new Sink(output, timeProvider, minimumLevel), requestId: null)
    {
    }

    private JsonLineLogger(Sink sink, string? requestId)
    {
        _sink = sink;
        _requestId = requestId;
    }

    public LogLevel MinimumLevel => _sink.MinimumLevel;

    /// <summary>A logger writing to the same output that tags every line with <paramref name="requestId"/>.</summary>
    public JsonLineLogger ForRequest(string requestId) => new(_sink, requestId);

    /// <summary>Maps AWS_LAMBDA_LOG_LEVEL (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) to a level; default Information.</summary>
    public static LogLevel ParseLevel(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        "TRACE" => LogLevel.Trace,
        "DEBUG" => LogLevel.Debug,
        "WARN" => LogLevel.Warning,
        "ERROR" => LogLevel.Error,
        "FATAL" => LogLevel.Critical,
        _ => LogLevel.Information,
    };

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= _sink.MinimumLevel;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (!IsEnabled(logLevel))
        {
            return;
        }

        _sink.Write(logLevel, _requestId, formatter(state, exception), exception);
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "TRACE",
        LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARN",
        LogLevel.Error => "ERROR",
        _ => "FATAL",
    };

    private sealed class Sink(Stream output, TimeProvider timeProvider, LogLevel minimumLevel)
    {
        private readonly Lock _gate = new();
        private readonly ArrayBufferWriter<byte> _buffer = new(1024);

        public LogLevel MinimumLevel { get; } = minimumLevel;

        public void Write(LogLevel level, string? requestId, string message, Exception? exception)
        {
            lock (_gate)
            {
                _buffer.ResetWrittenCount();
                using (var json = new Utf8JsonWriter(_buffer))
                {
                    json.WriteStartObject();
                    json.WriteString("timestamp", timeProvider.GetUtcNow().UtcDateTime);
                    json.WriteString("level", LevelName(level));
                    if (requestId is not null)
                    {
                        json.WriteString("requestId", requestId);
                    }

                    json.WriteString("message", message);
                    if (exception is not null)
                    {
                        var error = LambdaError.FromException(exception);
                        json.WriteString("errorType", error.ErrorType);
                        json.WriteString("errorMessage", error.ErrorMessage);
                        json.WriteStartArray("stackTrace");
                        foreach (var frame in error.StackTrace)
                        {
                            json.WriteStringValue(frame);
                        }

                        json.WriteEndArray();
                    }

                    json.WriteEndObject();
                }

                _buffer.Write("\n"u8);
                output.Write(_buffer.WrittenSpan);
                output.Flush();
            }
        }
    }
}
