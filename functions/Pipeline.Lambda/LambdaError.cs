using System.Text.Json.Serialization;
using Pipeline.Runtime.Configuration;

namespace Pipeline.Lambda;

/// <summary>
/// The error document the Runtime API takes on <c>/invocation/{id}/error</c> and <c>/init/error</c>.
/// Source: AWS Lambda developer guide, "Using the Lambda runtime API for custom runtimes" (error shape).
/// </summary>
public sealed record LambdaError(
    [property: JsonPropertyName("errorMessage")] string ErrorMessage,
    [property: JsonPropertyName("errorType")] string ErrorType,
    [property: JsonPropertyName("stackTrace")] IReadOnlyList<string> StackTrace)
{
    /// <summary>Longer messages are cut: the error document is logged and returned to callers.</summary>
    public const int MaxMessageChars = 8 * 1024;

    public const int MaxStackFrames = 64;

    /// <summary>Error types the runtime itself reports, in the <c>Runtime.Reason</c> form Lambda recommends.</summary>
    public static class Types
    {
        /// <summary>_HANDLER is missing or names no registered handler.</summary>
        public const string NoSuchHandler = "Runtime.NoSuchHandler";

        /// <summary>Configuration read at init is missing or invalid.</summary>
        public const string ConfigInvalid = "Runtime.ConfigInvalid";

        /// <summary>The handler did not finish before the invocation's deadline.</summary>
        public const string DeadlineExceeded = "Runtime.DeadlineExceeded";

        /// <summary>The process was asked to stop (SIGTERM) during the invocation.</summary>
        public const string ShuttingDown = "Runtime.ShuttingDown";

        /// <summary>The handler returned no stream.</summary>
        public const string NullResponse = "Runtime.NullResponse";

        /// <summary>The Runtime API refused the handler's response (e.g. 413, too large).</summary>
        public const string ResponseRejected = "Runtime.ResponseRejected";
    }

    public static LambdaError FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            exception = aggregate.InnerExceptions[0];
        }

        if (exception is LambdaInitException init)
        {
            return Create(init.Message, init.ErrorType, []);
        }

        // Bad settings are the operator's to fix, not a crash: the message names every variable.
        if (exception is ConfigurationException config)
        {
            return Create(config.Message, Types.ConfigInvalid, []);
        }

        var frames = (exception.StackTrace ?? string.Empty)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Take(MaxStackFrames)
            .ToArray();
        return Create(exception.Message, exception.GetType().Name, frames);
    }

    public static LambdaError Create(string message, string errorType, IReadOnlyList<string> stackTrace)
    {
        ArgumentNullException.ThrowIfNull(message);
        var bounded = message.Length <= MaxMessageChars ? message : message[..MaxMessageChars];
        return new LambdaError(bounded, errorType, stackTrace);
    }
}

/// <summary>An init failure with a known cause, reported to <c>/init/error</c> with its own error type.</summary>
public sealed class LambdaInitException : Exception
{
    public LambdaInitException(string errorType, string message)
        : base(message)
    {
        ErrorType = errorType;
    }

    public LambdaInitException()
        : this(LambdaError.Types.ConfigInvalid, "Initialisation failed.")
    {
    }

    public LambdaInitException(string message)
        : this(LambdaError.Types.ConfigInvalid, message)
    {
    }

    public LambdaInitException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorType = LambdaError.Types.ConfigInvalid;
    }

    public string ErrorType { get; }
}

[JsonSerializable(typeof(LambdaError))]
internal sealed partial class LambdaJsonContext : JsonSerializerContext;
