using System.Text;
using System.Text.Json;
using Pipeline.Core.Query;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Pipeline.Cli.Query;

/// <summary>Writes a <see cref="QueryResult"/> as a terminal table, CSV (RFC 4180) or JSON lines.</summary>
internal static class ResultWriter
{
    public static void Write(QueryResult result, OutputFormat format, TextWriter output)
    {
        switch (format)
        {
            case OutputFormat.Csv:
                WriteCsv(result, output);
                break;
            case OutputFormat.Json:
                WriteJson(result, output);
                break;
            default:
                WriteTable(result, output);
                break;
        }
    }

    private static void WriteTable(QueryResult result, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in result.Columns)
        {
            table.AddColumn(new Spectre.Console.TableColumn(new Text(column)));
        }

        foreach (var row in result.Rows)
        {
            // Text, not markup: cell values may contain [ ] which markup would interpret.
            table.AddRow(row.Select(c => (IRenderable)new Text(c ?? "NULL")).ToArray());
        }

        console.Write(table);
        console.WriteLine($"{result.Rows.Count} row(s){(result.Truncated ? " (truncated: raise --max-rows)" : string.Empty)}");
    }

    private static void WriteCsv(QueryResult result, TextWriter output)
    {
        output.Write(string.Join(',', result.Columns.Select(Csv)));
        output.Write("\r\n");
        foreach (var row in result.Rows)
        {
            output.Write(string.Join(',', row.Select(c => c is null ? string.Empty : Csv(c))));
            output.Write("\r\n");
        }
    }

    private static string Csv(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    /// <summary>One JSON object per row, cells as strings (or null) as Athena returns them.</summary>
    private static void WriteJson(QueryResult result, TextWriter output)
    {
        using var buffer = new MemoryStream();
        foreach (var row in result.Rows)
        {
            buffer.SetLength(0);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                for (var i = 0; i < result.Columns.Count; i++)
                {
                    if (row[i] is { } cell)
                    {
                        writer.WriteString(result.Columns[i], cell);
                    }
                    else
                    {
                        writer.WriteNull(result.Columns[i]);
                    }
                }

                writer.WriteEndObject();
            }

            output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        }
    }
}

internal enum OutputFormat
{
    Table,
    Csv,
    Json,
}
