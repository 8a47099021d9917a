using Pipeline.Core.Graph;
using Pipeline.Functions.Configuration;
using Pipeline.Runtime.Configuration;

namespace Pipeline.Functions.ServiceGraph;

/// <summary>Which engine aggregates the window.</summary>
public enum GraphEngine
{
    /// <summary>Stream the archive objects through <see cref="ServiceGraphBuilder"/> (default).</summary>
    Stream,

    /// <summary>Run athena/service_graph.sql (Athena in AWS, DuckDB locally).</summary>
    Sql,

    /// <summary>Stream below <see cref="ServiceGraphOptions.SqlThresholdSegments"/> estimated segments, SQL above.</summary>
    Auto,
}

/// <summary>
/// Configuration of the service-graph function, bound from the environment once at init.
/// Defaults: window 60 min, engine stream, threshold 2,000,000 segments, database xray_pipeline.
/// </summary>
public sealed record ServiceGraphOptions
{
    public const int DefaultWindowMinutes = 60;
    public const long DefaultSqlThresholdSegments = 2_000_000;
    public const string DefaultAthenaDatabase = "xray_pipeline";

    /// <summary>Longest window: a day (the archive's dt partition, and what one Lambda can list).</summary>
    public const int MaxWindowMinutes = 1440;

    public required string ArchiveBucket { get; init; }
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(DefaultWindowMinutes);
    public GraphEngine Engine { get; init; } = GraphEngine.Stream;
    public long SqlThresholdSegments { get; init; } = DefaultSqlThresholdSegments;
    public string? AthenaWorkGroup { get; init; }
    public string AthenaDatabase { get; init; } = DefaultAthenaDatabase;

    /// <summary>s3:// prefix for Athena results (the workgroup's when null).</summary>
    public string? AthenaOutputLocation { get; init; }

    public GraphBuilderOptions Builder { get; init; } = GraphBuilderOptions.Default;
    public GraphDiffOptions Diff { get; init; } = GraphDiffOptions.Default;

    /// <summary>Binds every variable; bad values throw one <see cref="ConfigurationException"/> naming each variable and value.</summary>
    public static ServiceGraphOptions FromEnvironment(IEnvironment environment)
    {
        var env = new EnvironmentBinder(environment);
        var options = new ServiceGraphOptions
        {
            ArchiveBucket = env.Required(EnvironmentNames.ArchiveBucket, "the S3 bucket of the archive"),
            Window = TimeSpan.FromMinutes(env.Int(EnvironmentNames.GraphWindowMinutes, DefaultWindowMinutes, 1, MaxWindowMinutes)),
            Engine = env.Choice(
                EnvironmentNames.GraphEngine,
                GraphEngine.Stream,
                ("stream", GraphEngine.Stream),
                ("athena", GraphEngine.Sql),
                ("sql", GraphEngine.Sql),
                ("auto", GraphEngine.Auto)),
            SqlThresholdSegments = env.Long(EnvironmentNames.GraphSqlThresholdSegments, DefaultSqlThresholdSegments, min: 1),
            AthenaWorkGroup = env.Text(EnvironmentNames.AthenaWorkGroup),
            AthenaDatabase = env.Text(EnvironmentNames.AthenaDatabase) ?? DefaultAthenaDatabase,
        };
        env.ThrowIfInvalid();
        return options;
    }
}
