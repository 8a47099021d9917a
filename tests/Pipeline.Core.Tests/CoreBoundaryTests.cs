using System.Text.RegularExpressions;
using Pipeline.Core.Segments;
using Pipeline.Testing;

namespace Pipeline.Core.Tests;

/// <summary>
/// Pipeline.Core is pure logic (issue 4): no network, no files, no environment, no wall clock, no
/// AWS. The compiler's banned-API analyzer covers the clock and environment reads it knows about;
/// these checks cover the rest.
/// </summary>
public sealed partial class CoreBoundaryTests
{
    [Fact]
    public void CoreAssembly_ReferencesNoNetworkOrAwsAssembly()
    {
        var references = typeof(SegmentParser).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? string.Empty).ToList();

        references.Should().NotContain(name => name.StartsWith("System.Net", StringComparison.Ordinal) || name.StartsWith("AWSSDK", StringComparison.Ordinal));
    }

    [Fact]
    public void CoreSources_UseNoFileEnvironmentClockOrHttpApis()
    {
        var coreDirectory = Path.Combine(RepoPaths.Root, "functions", "Pipeline.Core");
        var offenders = Directory.EnumerateFiles(coreDirectory, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: f, Line: i + 1, Text: line)))
            .Where(l => Forbidden().IsMatch(l.Text))
            .Select(l => $"{Path.GetRelativePath(coreDirectory, l.File)}:{l.Line}: {l.Text.Trim()}")
            .ToList();

        offenders.Should().BeEmpty();
    }

    [GeneratedRegex(@"\bSystem\.Net\b|\bSystem\.IO\.File\b|\bFile\.(Read|Write|Open|Exists|Create|Delete|Append|Copy|Move)|\bDirectory\.|\bEnvironment\.|DateTime(Offset)?\.(Utc)?Now\b|\bHttpClient\b|\bAmazon\.")]
    private static partial Regex Forbidden();
}
