namespace Pipeline.Lambda;

/// <summary>
/// Variables the Lambda service sets for a custom runtime.
/// Source: AWS Lambda developer guide, "Defined runtime environment variables" and "Custom runtimes".
/// </summary>
public static class LambdaEnvironmentVariables
{
    /// <summary>host:port of the Runtime API, e.g. <c>127.0.0.1:9001</c>.</summary>
    public const string RuntimeApi = "AWS_LAMBDA_RUNTIME_API";

    /// <summary>The function's Handler setting; our bootstrap reads it as a function name.</summary>
    public const string Handler = "_HANDLER";

    /// <summary>The X-Ray tracing header of the current invocation; runtimes set it per invocation.</summary>
    public const string TraceId = "_X_AMZN_TRACE_ID";

    /// <summary>Set when the function uses advanced logging controls: TRACE, DEBUG, INFO, WARN, ERROR, FATAL.</summary>
    public const string LogLevel = "AWS_LAMBDA_LOG_LEVEL";

    public const string FunctionName = "AWS_LAMBDA_FUNCTION_NAME";
}
