// The single Lambda `bootstrap` executable: _HANDLER picks the function (see Hosting/FunctionCatalog).
using System.Runtime.InteropServices;
using Pipeline.Functions.Hosting;
using Pipeline.Runtime.Configuration;

using var stopping = new CancellationTokenSource();

// Lambda sends SIGTERM before it shuts a sandbox down (when extensions are registered).
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stopping.Cancel();
});

await using var stdout = Console.OpenStandardOutput();
return await Bootstrap.RunAsync(
    FunctionCatalog.Create(),
    ProcessEnvironment.Instance,
    TimeProvider.System,
    stdout,
    stopping.Token).ConfigureAwait(false);
