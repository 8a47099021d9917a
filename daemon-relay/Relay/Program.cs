using System.Reflection;
using System.Runtime.InteropServices;
using Pipeline.Runtime.Configuration;
using Relay;
using Relay.Config;
using Relay.Logging;

// Composition root of the node relay: parse options, build the real clients, run until SIGTERM.
ParsedCommandLine parsed;
try
{
    parsed = OptionsParser.Parse(args, ProcessEnvironment.Instance);
}
catch (OptionsException e)
{
    await Console.Error.WriteLineAsync($"xray-relay: {e.Message}");
    return 2;
}

if (parsed.ShowHelp)
{
    Console.Out.Write(OptionsParser.HelpText);
    return 0;
}

if (parsed.ShowVersion)
{
    Console.Out.WriteLine("xray-relay " + (typeof(RelayHost).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown"));
    return 0;
}

var options = parsed.Options!;
var log = new JsonLog(Console.OpenStandardOutput(), TimeProvider.System, options.LogLevel);
foreach (var warning in parsed.Warnings)
{
    log.Warn(warning);
}

RelayHost host;
RelayClients clients;
try
{
    clients = await RelayClients.CreateAsync(options, ProcessEnvironment.Instance, TimeProvider.System, log);
    log.Info("aws identity", ("region", clients.Identity.Region), ("region_from", clients.Identity.RegionSource), ("credentials", clients.Identity.CredentialSource));
    host = new RelayHost(options with { Region = clients.Identity.Region }, clients.Kinesis, log, TimeProvider.System, clients.SamplingUpstream);
    host.Metrics.ObserveCredentials(clients.Identity.Metrics, TimeProvider.System);
    await host.StartAsync();
}
catch (Relay.Aws.AwsIdentityException e)
{
    log.Error("relay failed to start", ("error", e.Message));
    await Console.Error.WriteLineAsync($"xray-relay: {e.Message}");
    return 1;
}
catch (Relay.Http.ListenerBindException e)
{
    log.Error("relay failed to start", ("error", e.Message));
    await Console.Error.WriteLineAsync($"xray-relay: {e.Message}");
    return 1;
}
catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or ConfigurationException)
{
    log.Error("relay failed to start", ("error", e.Message));
    await Console.Error.WriteLineAsync($"xray-relay: {e.Message}");
    return 1;
}

var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    stop.TrySetResult();
}

using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
await stop.Task;
await host.StopAsync();
await host.DisposeAsync();
clients.Dispose();
return 0;
