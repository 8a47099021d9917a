namespace Pipeline.Lambda;

/// <summary>The process environment, behind a seam so tests and local mode can supply their own.</summary>
public interface IEnvironmentVariables
{
    string? GetEnvironmentVariable(string name);

    /// <summary>Sets (or with <c>null</c> removes) a variable; the host uses it for the trace id.</summary>
    void SetEnvironmentVariable(string name, string? value);
}

/// <summary>The real process environment; built once by the composition root.</summary>
public sealed class ProcessEnvironmentVariables : IEnvironmentVariables
{
    public static ProcessEnvironmentVariables Instance { get; } = new();

    private ProcessEnvironmentVariables()
    {
    }

#pragma warning disable RS0030 // This class is the one seam allowed to read the process environment.
    public string? GetEnvironmentVariable(string name) => Environment.GetEnvironmentVariable(name);
#pragma warning restore RS0030

    public void SetEnvironmentVariable(string name, string? value) => Environment.SetEnvironmentVariable(name, value);
}

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
