using Spectre.Console;
using Spectre.Console.Rendering;

namespace Pipeline.Cli.Output;

/// <summary>
/// How the local-mode commands talk to people: Spectre.Console spinners, tables and a live view on
/// a terminal; plain lines (stable, greppable, one fact per line) when output is redirected, so
/// scripts and tests read the same facts without escape codes.
/// </summary>
internal sealed class CliConsole
{
    private readonly TextWriter _out;
    private readonly TextWriter _error;
    private readonly IAnsiConsole? _ansi;
    private readonly Lock _gate = new();

    public CliConsole(TextWriter output, TextWriter error, bool interactive)
    {
        _out = output;
        _error = error;
        IsInteractive = interactive;
        _ansi = interactive
            ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.Yes, Ansi = AnsiSupport.Detect })
            : null;
    }

    public bool IsInteractive { get; }

    /// <summary>A completed step: a tick on a terminal, the plain text otherwise.</summary>
    public void Step(string text)
    {
        lock (_gate)
        {
            if (_ansi is not null)
            {
                _ansi.MarkupLine("[green]✓[/] " + Markup.Escape(text));
            }
            else
            {
                _out.WriteLine(text);
                _out.Flush();
            }
        }
    }

    /// <summary>An unformatted line on both (e.g. <c>pipeline ready</c>, which scripts wait for).</summary>
    public void Line(string text)
    {
        lock (_gate)
        {
            _out.WriteLine(text);
            _out.Flush();
        }
    }

    public void Warn(string text)
    {
        lock (_gate)
        {
            if (_ansi is not null)
            {
                _ansi.MarkupLine("[yellow]![/] " + Markup.Escape(text));
            }
            else
            {
                _out.WriteLine("warning: " + text);
                _out.Flush();
            }
        }
    }

    public void Error(string text)
    {
        lock (_gate)
        {
            _error.WriteLine(text);
            _error.Flush();
        }
    }

    /// <summary>Runs <paramref name="work"/> under a spinner titled <paramref name="title"/> on a terminal; then prints its result as a step.</summary>
    public async Task<T> StepAsync<T>(string title, Func<Task<T>> work, Func<T, string> done)
    {
        T result;
        if (_ansi is not null)
        {
            result = await _ansi.Status().Spinner(Spinner.Known.Dots).StartAsync(title + "…", _ => work()).ConfigureAwait(false);
        }
        else
        {
            result = await work().ConfigureAwait(false);
        }

        Step(done(result));
        return result;
    }

    /// <summary>A two-column table (terminal) or "key: value" lines.</summary>
    public void KeyValues(string title, IEnumerable<(string Key, string Value)> rows)
    {
        lock (_gate)
        {
            if (_ansi is not null)
            {
                _ansi.Write(KeyValueTable(title, rows));
            }
            else
            {
                foreach (var (key, value) in rows)
                {
                    _out.WriteLine($"{key}: {value}");
                }

                _out.Flush();
            }
        }
    }

    /// <summary>
    /// On a terminal, redraws <paramref name="render"/> every <paramref name="every"/> until
    /// <paramref name="stop"/>; otherwise calls <paramref name="line"/> at that pace and prints
    /// the line when it changed.
    /// </summary>
    public async Task LiveAsync(Func<IRenderable> render, Func<string> line, TimeSpan every, TimeSpan plainEvery, TimeProvider time, CancellationToken stop)
    {
        if (_ansi is not null)
        {
            await _ansi.Live(render()).AutoClear(false).StartAsync(async context =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await Pause(every, time, stop).ConfigureAwait(false);
                    context.UpdateTarget(render());
                    context.Refresh();
                }
            }).ConfigureAwait(false);
            return;
        }

        string? last = null;
        while (!stop.IsCancellationRequested)
        {
            await Pause(plainEvery, time, stop).ConfigureAwait(false);
            var text = line();
            if (!string.Equals(text, last, StringComparison.Ordinal))
            {
                Line(text);
                last = text;
            }
        }
    }

    public static Table KeyValueTable(string title, IEnumerable<(string Key, string Value)> rows)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(title).AddColumn("").AddColumn("");
        table.ShowHeaders = false;
        foreach (var (key, value) in rows)
        {
            table.AddRow(new Text(key, new Style(Color.Grey)), new Text(value));
        }

        return table;
    }

    private static async Task Pause(TimeSpan delay, TimeProvider time, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, time, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stop requested.
        }
    }
}
