using System.Globalization;

namespace Pipeline.Cli.Verify;

/// <summary>How one check of <c>pipeline verify</c> ended.</summary>
internal enum VerifyOutcome
{
    Pass,
    Fail,

    /// <summary>The check cannot be made against this endpoint (moto creates no CloudWatch alarms); never counted as passed.</summary>
    NotVerifiable,

    /// <summary>Not run because a check it needs failed.</summary>
    Skipped,
}

/// <param name="Fix">What to do when the check failed (null when it passed).</param>
internal sealed record VerifyCheck(string Name, VerifyOutcome Outcome, string Detail, string? Fix = null)
{
    public static VerifyCheck Passed(string name, string detail) => new(name, VerifyOutcome.Pass, detail);

    public static VerifyCheck Failed(string name, string detail, string fix) => new(name, VerifyOutcome.Fail, detail, fix);
}

/// <summary>The checks of one run, in order, and the table <c>pipeline verify</c> prints.</summary>
internal sealed class VerifyReport
{
    private readonly List<VerifyCheck> _checks = [];

    public IReadOnlyList<VerifyCheck> Checks => _checks;

    public bool Failed => _checks.Any(c => c.Outcome is VerifyOutcome.Fail or VerifyOutcome.Skipped);

    public int ExitCode => Failed ? 1 : 0;

    public VerifyCheck Add(VerifyCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        _checks.Add(check);
        return check;
    }

    public static string Word(VerifyOutcome outcome) => outcome switch
    {
        VerifyOutcome.Pass => "pass",
        VerifyOutcome.Fail => "FAIL",
        VerifyOutcome.NotVerifiable => "not verifiable here",
        VerifyOutcome.Skipped => "skipped",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };

    /// <summary>One row per check (check, result, detail), each failure followed by its fix, then a summary line.</summary>
    public void Write(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var nameWidth = Math.Max("check".Length, _checks.Select(c => c.Name.Length).DefaultIfEmpty(0).Max());
        var resultWidth = Math.Max("result".Length, _checks.Select(c => Word(c.Outcome).Length).DefaultIfEmpty(0).Max());
        output.WriteLine($"{"check".PadRight(nameWidth)}  {"result".PadRight(resultWidth)}  detail");
        foreach (var check in _checks)
        {
            output.WriteLine($"{check.Name.PadRight(nameWidth)}  {Word(check.Outcome).PadRight(resultWidth)}  {check.Detail}");
            if (check.Fix is { } fix)
            {
                output.WriteLine($"{new string(' ', nameWidth + resultWidth + 4)}fix: {fix}");
            }
        }

        var counts = string.Join(", ", Enum.GetValues<VerifyOutcome>()
            .Select(o => (Outcome: o, Count: _checks.Count(c => c.Outcome == o)))
            .Where(x => x.Count > 0)
            .Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Count} {Word(x.Outcome).ToLowerInvariant()}")));
        output.WriteLine(Failed ? $"verify FAILED: {counts}" : $"verify passed: {counts}");
    }
}
