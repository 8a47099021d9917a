using Microsoft.Extensions.Logging;
using Pipeline.Lambda;

namespace Pipeline.Functions.Hosting;

/// <summary>What a handler factory gets from the composition root at init.</summary>
/// <param name="Environment">Configuration source; bind options from it and fail init with a <see cref="LambdaInitException"/>.</param>
/// <param name="TimeProvider">The clock.</param>
/// <param name="Http">One pooled HttpClient for outbound AWS calls (not the Runtime API's client).</param>
/// <param name="Logger">Init-time logger (JSON lines on stdout).</param>
public sealed record HandlerInitContext(
    IEnvironmentVariables Environment,
    TimeProvider TimeProvider,
    HttpClient Http,
    ILogger Logger);
