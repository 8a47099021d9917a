using Pipeline.Core.Query;

namespace Pipeline.Cli.Query;

/// <summary>
/// The athena/ directory: table DDL (athena/tables/*.sql) and named queries
/// (athena/queries/*.sql), read from the checkout so that the files stay the one source.
/// </summary>
internal sealed class AthenaSqlFiles
{
    private const string TablesFolder = "tables";
    private const string QueriesFolder = "queries";

    public AthenaSqlFiles(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    /// <summary>
    /// The athena/ directory above <paramref name="startDirectory"/> or above the executable,
    /// whichever is found first.
    /// </summary>
    public static AthenaSqlFiles Locate(string startDirectory)
    {
        foreach (var start in new[] { startDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "athena");
                if (System.IO.Directory.Exists(Path.Combine(candidate, QueriesFolder)))
                {
                    return new AthenaSqlFiles(candidate);
                }
            }
        }

        throw new InvalidOperationException($"no athena/queries directory above {startDirectory}; pass --athena-dir");
    }

    public IReadOnlyList<AthenaTableDefinition> Tables() =>
        System.IO.Directory.GetFiles(Path.Combine(Directory, TablesFolder), "*.sql")
            .Order(StringComparer.Ordinal)
            .Select(f => AthenaTableDefinition.Parse(File.ReadAllText(f)))
            .ToList();

    public IReadOnlyList<string> QueryNames() =>
        System.IO.Directory.GetFiles(Path.Combine(Directory, QueriesFolder), "*.sql")
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The committed nested-stack template the files generate (athena/template-athena.yaml).</summary>
    public string TemplatePath => Path.Combine(Directory, "template-athena.yaml");

    /// <summary>The template the files generate now (<see cref="AthenaTemplate"/>).</summary>
    public string RenderTemplate() =>
        AthenaTemplate.Render(
            Tables(),
            QueryNames().Select(n => AthenaTemplate.QueryEntry.Parse(n, File.ReadAllText(Path.Combine(Directory, QueriesFolder, n + ".sql")))).ToList());

    public NamedQuery Query(string name)
    {
        var path = Path.Combine(Directory, QueriesFolder, name + ".sql");
        if (name.IndexOfAny(['/', '\\']) >= 0 || !File.Exists(path))
        {
            throw new QueryParameterException($"no named query '{name}' (known: {string.Join(", ", QueryNames())})");
        }

        return NamedQuery.Parse(name, File.ReadAllText(path));
    }
}
