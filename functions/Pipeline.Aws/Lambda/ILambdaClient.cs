namespace Pipeline.Aws.Lambda;

/// <summary>
/// The AWS Lambda calls <c>pipeline verify</c> makes (rest-json, API version 2015-03-31):
/// a synchronous Invoke of a deployed function and GetEventSourceMapping. AWSSDK.Lambda is not
/// served here, so this is our own small client; the interface is shaped so the official package
/// could replace it.
/// </summary>
public interface ILambdaClient
{
    /// <summary>
    /// Invoke with InvocationType RequestResponse: the answer comes when the function returns. A
    /// function error is not an exception: <see cref="LambdaInvokeResult.FunctionError"/> is set
    /// and the payload is the error object. Not retried (the function may have run).
    /// </summary>
    Task<LambdaInvokeResult> InvokeAsync(string functionName, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default);

    /// <summary>GetEventSourceMapping by UUID; null when no such mapping exists.</summary>
    Task<EventSourceMappingDescription?> GetEventSourceMappingAsync(string uuid, CancellationToken cancellationToken = default);
}

/// <param name="FunctionError">X-Amz-Function-Error (<c>Unhandled</c>, <c>Handled</c>): the function failed; null when it returned.</param>
/// <param name="Payload">What the function returned, or its error object.</param>
public sealed record LambdaInvokeResult(int StatusCode, string? FunctionError, byte[] Payload, string? ExecutedVersion);

/// <param name="State">Creating, Enabling, Enabled, Disabling, Disabled, Updating, Deleting.</param>
/// <param name="LastProcessingResult">"OK", "No records processed", "PROBLEM: …" (Lambda's words), or null.</param>
public sealed record EventSourceMappingDescription(
    string Uuid,
    string State,
    string? EventSourceArn,
    string? FunctionArn,
    string? LastProcessingResult,
    string? StateTransitionReason)
{
    public const string EnabledState = "Enabled";

    public bool IsEnabled => State == EnabledState;
}
