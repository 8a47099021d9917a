using System.CommandLine;
using Pipeline.Core.Query;

namespace Pipeline.Cli.Query;

/// <summary>
/// <c>pipeline athena-template [--check] [--athena-dir DIR]</c>, for whoever edits athena/: writes
/// athena/template-athena.yaml from athena/tables/*.sql and athena/queries/*.sql
/// (<see cref="AthenaTemplate"/>), or with <c>--check</c> exits 1 when the committed file is stale.
/// </summary>
internal static class AthenaTemplateCommand
{
    public static Command Create(QueryCommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var check = new Option<bool>("--check") { Description = "Exit 1 if the committed template differs from what the .sql files generate; write nothing" };
        var athenaDir = new Option<string?>("--athena-dir") { Description = "The athena/ directory (default: found above the working directory)" };
        var command = new Command("athena-template", "Generate athena/template-athena.yaml (Glue tables, work group, named queries) from the athena/ .sql files")
        {
            check,
            athenaDir,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var files = parse.GetValue(athenaDir) is { } d ? new AthenaSqlFiles(d) : AthenaSqlFiles.Locate(context.WorkingDirectory);
                var text = files.RenderTemplate();
                var summary = $"{files.Tables().Count} tables, {files.QueryNames().Count} named queries";
                var path = files.TemplatePath;
                if (parse.GetValue(check))
                {
                    var current = File.Exists(path) ? await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false) : "";
                    if (!string.Equals(current, text, StringComparison.Ordinal))
                    {
                        await error.WriteLineAsync($"{path} is stale: run ./pipeline athena-template").ConfigureAwait(false);
                        return 1;
                    }

                    await output.WriteLineAsync($"{path} is current ({summary})").ConfigureAwait(false);
                    return 0;
                }

                await File.WriteAllTextAsync(path, text, cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"wrote {path} ({summary})").ConfigureAwait(false);
                return 0;
            }
            catch (Exception e) when (e is InvalidOperationException or SqlSyntaxException or IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"pipeline athena-template: {e.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }
}
