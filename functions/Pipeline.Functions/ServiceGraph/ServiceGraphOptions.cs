using System.Globalization;
using Pipeline.Core.Graph;
using Pipeline.Functions.Configuration;
using Pipeline.Lambda;

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

    /// <exception cref="LambdaInitException">A required variable is missing or a value is malformed.</exception>
    public static ServiceGraphOptions FromEnvironment(IEnvironmentVariables environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Get(string name) => environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v.Trim() : null;
        var bucket = Get(EnvironmentNames.ArchiveBucket)
            ?? throw new LambdaInitException(LambdaError.Types.ConfigInvalid, $"{EnvironmentNames.ArchiveBucket} is required");
        var minutes = Get(EnvironmentNames.GraphWindowMinutes) is { } m ? ParseInt(EnvironmentNames.GraphWindowMinutes, m, 1, MaxWindowMinutes) : DefaultWindowMinutes;
        var engine = Get(EnvironmentNames.GraphEngine)?.ToLowerInvariant() switch
        {
            null or "stream" => GraphEngine.Stream,
            "sql" or "athena" => GraphEngine.Sql,
            "auto" => GraphEngine.Auto,
            var other => throw new LambdaInitException(LambdaError.Types.ConfigInvalid, $"{EnvironmentNames.GraphEngine} '{other}' is not stream, athena or auto"),
        };
        var threshold = Get(EnvironmentNames.GraphSqlThresholdSegments) is { } t
            ? ParseInt(EnvironmentNames.GraphSqlThresholdSegments, t, 1, long.MaxValue)
            : DefaultSqlThresholdSegments;
        return new ServiceGraphOptions
        {
            ArchiveBucket = bucket,
            Window = TimeSpan.FromMinutes(minutes),
            Engine = engine,
            SqlThresholdSegments = threshold,
            AthenaWorkGroup = Get(EnvironmentNames.AthenaWorkGroup),
            AthenaDatabase = Get(EnvironmentNames.AthenaDatabase) ?? DefaultAthenaDatabase,
        };
    }

    private static long ParseInt(string name, string value, long min, long max) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new LambdaInitException(LambdaError.Types.ConfigInvalid, $"{name} '{value}' is not an integer in {min}..{max}");
}
