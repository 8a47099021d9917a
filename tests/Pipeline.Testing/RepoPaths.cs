namespace Pipeline.Testing;

/// <summary>Locates the repository root and the shared test data beside it.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The directory that holds Pipeline.sln.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>`../shared` next to the repository (read-only in CI).</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    /// <summary>The real segment documents from public sources, with MANIFEST.tsv.</summary>
    public static string RealSegmentsCorpus => Path.Combine(Shared, "corpus", "real-segments");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException(
            $"Pipeline.sln not found above {AppContext.BaseDirectory}; tests must run from a checkout.");
    }
}
