using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Cli.Local;
using Pipeline.Functions.Configuration;
using Pipeline.Functions.CostReport;
using Pipeline.Lambda.Logging;

namespace Pipeline.Cli.Commands;

/// <summary>
/// <c>pipeline report</c>: runs the cost-report function now against the running local stack
/// (report for today so far), keeps a copy under <c>.pipeline/reports/</c> and prints its path.
/// </summary>
internal static class ReportCommand
{
    public static Command Create(CliContext context)
    {
        var stateDir = CommandOptions.StateDir();
        var asOf = new Option<string?>("--as-of") { Description = "Report day (yyyy-MM-dd); default today (UTC)" };
        var command = new Command("report", "Run the cost-report function now and print where the report is") { stateDir, asOf };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var console = context.Console(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            var paths = context.Paths(parse.GetValue(stateDir));
            var stack = StackFile.TryRead(paths.StackFile);
            if (stack is null || !Signals.IsAlive(stack.Pids.Up))
            {
                console.Error("pipeline report: no local stack is running; start one with ./pipeline up");
                return 1;
            }

            var day = parse.GetValue(asOf) ?? DateOnly.FromDateTime(context.Time.GetUtcNow().UtcDateTime).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            if (!DateOnly.TryParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            {
                console.Error($"pipeline report: --as-of '{day}' is not yyyy-MM-dd");
                return 1;
            }

            try
            {
                Directory.CreateDirectory(paths.LogDir);
                await using var log = new FileStream(paths.Log("report"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
                var logger = new JsonLineLogger(log, context.Time, Microsoft.Extensions.Logging.LogLevel.Information);
                var functions = new LocalFunctions(LocalFunctions.Catalog(), LocalFunctions.Environment(new Uri(stack.Endpoint), stack.Region), context.Time, context.Http, logger);
                var handler = await functions.CreateAsync(FunctionContract.CostReportHandler, cancellationToken).ConfigureAwait(false);
                var function = new ScheduledFunction(FunctionContract.CostReportHandler, handler, stack.Region, context.Time, logger);
                var json = await console.StepAsync(
                    "running cost-report",
                    () => function.InvokeAsync($$"""{"asOf":"{{day}}"}""", cancellationToken),
                    _ => "cost-report ran").ConfigureAwait(false);
                var result = JsonSerializer.Deserialize(json, CostReportResultJsonContext.Default.CostReportResult)
                    ?? throw new InvalidOperationException("cost-report returned no result");

                using var aws = AwsClients.Create(new AwsSettings
                {
                    Region = stack.Region,
                    EndpointUrl = new Uri(stack.Endpoint),
                    AccessKeyId = StackNames.FakeCredential,
                    SecretAccessKey = StackNames.FakeCredential,
                }, context.Http, context.Time);
                var html = await aws.ObjectStore.GetAsync(result.Bucket, result.HtmlKey, cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"s3://{result.Bucket}/{result.HtmlKey} is missing");
                Directory.CreateDirectory(paths.ReportsDir);
                var local = Path.Combine(paths.ReportsDir, $"cost-report-{result.AsOf:yyyy-MM-dd}.html");
                await File.WriteAllBytesAsync(local, html, cancellationToken).ConfigureAwait(false);
                console.KeyValues("cost report", [
                    ("report", local),
                    ("archive copy", $"s3://{result.Bucket}/{result.HtmlKey}"),
                    ("month to date", result.MonthToDateUsd.ToString("0.00", CultureInfo.InvariantCulture) + " USD"),
                    ("projected", result.ProjectedUsd.ToString("0.00", CultureInfo.InvariantCulture) + " USD"),
                    // At demo volumes the pipeline's fixed costs (shard-hours) exceed X-Ray's free tier: say so plainly.
                    result.SavingsMonthToDateUsd >= 0
                        ? ("saved vs all to X-Ray", result.SavingsMonthToDateUsd.ToString("0.00", CultureInfo.InvariantCulture) + " USD")
                        : ("costs more than all to X-Ray", (-result.SavingsMonthToDateUsd).ToString("0.00", CultureInfo.InvariantCulture) + " USD (fixed costs dominate at this volume)"),
                    ("emailed", $"{result.Recipients} recipient(s), message {result.MessageId}"),
                ]);
                return 0;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or HttpRequestException or ArgumentException
                or Amazon.Runtime.AmazonServiceException or Pipeline.Aws.Http.AwsServiceException or Pipeline.Lambda.LambdaInitException or JsonException)
            {
                console.Error("pipeline report: " + e.Message);
                return 1;
            }
        });
        return command;
    }
}
