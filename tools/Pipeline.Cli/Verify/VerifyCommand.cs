using System.CommandLine;
using Pipeline.Cli.Commands;
using Pipeline.Runtime.Configuration;

namespace Pipeline.Cli.Verify;

/// <summary>
/// <c>pipeline verify --stack NAME</c>: the check a user runs against their account after
/// <c>sam deploy</c> (docs/deploy.md). Prints a pass/fail table with what to fix; exit code 1
/// when any check failed or could not run, 0 otherwise ("not verifiable here" is not a pass and
/// not a failure: the table says so).
/// </summary>
internal static class VerifyCommand
{
    public static readonly TimeSpan DefaultArchiveTimeout = TimeSpan.FromMinutes(5);

    public static Command Create(VerifyContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var stack = CommandOptions.Stack();
        var region = new Option<string?>("--region") { Description = "AWS region of the stack (default: AWS_REGION, AWS_DEFAULT_REGION)" };
        var endpoint = new Option<string?>("--endpoint-url") { Description = "One endpoint for every AWS service (moto); default AWS_ENDPOINT_URL or the public endpoints" };
        var segments = CommandOptions.Bounded("--segments", "Marked synthetic segments to send", 5, 1, VerifyRun.MaxSegments);
        var timeout = CommandOptions.Duration("--timeout", "How long to wait for the segments in the archive", DefaultArchiveTimeout);
        var sendReport = new Option<bool>("--send-report") { Description = "Let the cost report email its recipients (default: a dry run, stored but not sent)" };
        var command = new Command("verify", "Check a deployed stack end to end with your credentials: stream, ingest, archive, Athena, functions, alarms")
        {
            stack, region, endpoint, segments, timeout, sendReport,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var options = new VerifyOptions(
                parse.GetValue(stack), parse.GetValue(endpoint), parse.GetValue(region), parse.GetValue(segments), parse.GetDuration(timeout), parse.GetValue(sendReport));
            try
            {
                var report = await new VerifyRun(context, options, error).RunAsync(cancellationToken).ConfigureAwait(false);
                report.Write(output);
                return report.ExitCode;
            }
            catch (Exception e) when (e is ConfigurationException or UriFormatException or ArgumentException)
            {
                await error.WriteLineAsync($"pipeline verify: {e.Message}").ConfigureAwait(false);
                return 2;
            }
        });
        return command;
    }
}
