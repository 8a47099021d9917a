using Pipeline.Testing;

namespace Pipeline.Functions.Tests.CostReport;

/// <summary>
/// A small approved-file check: compares output with <c>Approved/&lt;name&gt;.approved.&lt;ext&gt;</c> in
/// the source tree; on a difference it writes <c>&lt;name&gt;.received.&lt;ext&gt;</c> beside it and fails
/// with the first differing line, so the change can be reviewed and approved by moving the file.
/// </summary>
internal static class Approvals
{
    public static string Directory => Path.Combine(RepoPaths.Root, "tests", "Pipeline.Functions.Tests", "CostReport", "Approved");

    public static void AssertMatches(string actual, string name, string extension)
    {
        var approvedPath = Path.Combine(Directory, $"{name}.approved.{extension}");
        var receivedPath = Path.Combine(Directory, $"{name}.received.{extension}");
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath) : null;
        if (approved == actual)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, actual);
        var hint = $"Compare: diff -u {approvedPath} {receivedPath}; if the change is intended: mv {receivedPath} {approvedPath}";
        if (approved is null)
        {
            Assert.Fail($"No approved file {approvedPath}. Received output written. {hint}");
        }

        Assert.Fail($"{name}.{extension} differs from the approved file at {FirstDifference(approved, actual)}. {hint}");
    }

    private static string FirstDifference(string approved, string actual)
    {
        var a = approved.Split('\n');
        var b = actual.Split('\n');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var left = i < a.Length ? a[i] : "<end of file>";
            var right = i < b.Length ? b[i] : "<end of file>";
            if (left != right)
            {
                return $"line {i + 1}:\n  approved: {left}\n  received: {right}\n";
            }
        }

        return "(line endings)";
    }
}
