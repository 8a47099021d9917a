namespace Pipeline.Lambda;

/// <summary>
/// A function's entry point. Handlers never see the host: the bootstrap, tests and local mode
/// all call this directly. The returned stream is the response body; the caller disposes it.
/// An exception becomes a Lambda error response; the invocation loop goes on.
/// </summary>
public interface ILambdaHandler
{
    Task<Stream> HandleAsync(Stream input, InvocationContext context);
}
