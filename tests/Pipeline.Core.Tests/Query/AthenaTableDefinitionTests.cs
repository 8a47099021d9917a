using Pipeline.Core.Query;
using Pipeline.Testing;

namespace Pipeline.Core.Tests.Query;

/// <summary>
/// The DDL in athena/tables/ parses, names the archive layout the ingest writes, uses partition
/// projection, and declares only fields that exist in X-Ray segment documents.
/// </summary>
public sealed class AthenaTableDefinitionTests
{
    /// <summary>
    /// Field paths of the X-Ray segment document (AWS X-Ray developer guide, "Segment documents"
    /// and "AWS X-Ray segment document schema"), for segments, subsegments and independent
    /// subsegments. Subsegment fields appear under subsegments[] at any depth.
    /// </summary>
    private static readonly HashSet<string> XRaySegmentFields =
    [
        "trace_id", "id", "parent_id", "type", "name", "origin", "start_time", "end_time", "in_progress",
        "inferred", "error", "fault", "throttle", "user", "namespace", "annotations", "metadata", "cause",
        "precursor_ids", "traced", "subsegments",
        "http", "http.request", "http.request.method", "http.request.url", "http.request.client_ip",
        "http.request.user_agent", "http.request.x_forwarded_for", "http.request.traced",
        "http.response", "http.response.status", "http.response.content_length",
        "aws", "aws.account_id", "aws.operation", "aws.region", "aws.request_id", "aws.table_name",
        "aws.queue_url", "aws.function_arn", "aws.retries",
        "aws.ec2", "aws.ec2.instance_id", "aws.ec2.availability_zone", "aws.ecs", "aws.ecs.container",
        "aws.elastic_beanstalk", "aws.elastic_beanstalk.environment_name", "aws.elastic_beanstalk.version_label",
        "aws.elastic_beanstalk.deployment_id", "aws.xray", "aws.xray.sdk", "aws.xray.sdk_version",
        "service", "service.version",
        "sql", "sql.url", "sql.connection_string", "sql.database_type", "sql.database_version",
        "sql.driver_version", "sql.user", "sql.preparation", "sql.sanitized_query",
    ];

    private static readonly string TablesDirectory = Path.Combine(RepoPaths.Root, "athena", "tables");

    [Fact]
    public void Segments_Layout_IsTheIngestKeyLayoutWithProjection()
    {
        var table = Load("segments");

        table.SerDe.Should().Be(AthenaTableDefinition.JsonSerDe);
        table.KeyPrefix.Should().Be("segments/");
        table.KeyTemplate.Should().Be("segments/dt=${dt}/hour=${hour}/");
        table.PartitionKeys.Select(k => k.Name).Should().Equal("dt", "hour");
        table.Properties.Should().Contain(new Dictionary<string, string>
        {
            ["projection.enabled"] = "true",
            ["projection.dt.type"] = "date",
            ["projection.dt.format"] = "yyyy-MM-dd",
            ["projection.hour.type"] = "integer",
            ["projection.hour.range"] = "0,23",
            ["projection.hour.digits"] = "2",
        });
        table.Properties["projection.dt.range"].Should().MatchRegex(@"^\d{4}-\d{2}-\d{2},NOW$");
    }

    [Theory]
    [InlineData("quarantine", "quarantine/dt=${dt}/")]
    [InlineData("usage", "usage/dt=${dt}/")]
    [InlineData("usage_raw", "usage/dt=${dt}/")]
    [InlineData("segments_raw", "segments/dt=${dt}/hour=${hour}/")]
    public void OtherTables_Layout_MatchesTheirPrefix(string name, string template)
    {
        var table = Load(name);

        table.KeyTemplate.Should().Be(template);
        table.Properties["projection.enabled"].Should().Be("true");
        foreach (var key in table.PartitionKeys)
        {
            table.Properties.Should().ContainKey($"projection.{key.Name}.type");
        }
    }

    [Fact]
    public void Segments_EveryDeclaredField_IsAnXRaySegmentDocumentField()
    {
        var table = Load("segments");

        var paths = table.Columns.SelectMany(c => LeafPaths(c.Name, c.Type)).ToList();

        paths.Should().Contain(["trace_id", "id", "parent_id", "name", "start_time", "end_time", "http.request.url",
            "http.response.status", "annotations", "subsegments.id", "subsegments.subsegments.name"]);
        paths.Select(StripSubsegments).Where(p => !XRaySegmentFields.Contains(p)).Should().BeEmpty();
    }

    [Fact]
    public void Quarantine_Columns_AreTheQuarantineRecordFields()
    {
        // The names Pipeline.Core's ArchiveLines.WriteQuarantine writes.
        Load("quarantine").Columns.Select(c => c.Name).Should().Equal(
            "reason", "reason_code", "path", "sequence_number", "arrival_time", "size", "original_base64");
    }

    [Fact]
    public void Usage_Columns_AreTheBatchIdentityAndCounters()
    {
        var columns = Load("usage").Columns;

        columns.Select(c => c.Name).Should().Contain(["segments_in", "segments_valid", "segments_invalid", "segments_kept",
            "traces_seen", "traces_kept", "bytes_archived"]);
        columns.Where(c => c.Type.Kind is not ("bigint" or "int" or "struct"))
            .Select(c => c.Name).Should().Equal("shard", "first_sequence", "last_sequence", "arrived_at");
    }

    [Fact]
    public void HiveType_Nested_MapsToDuckDbShape()
    {
        var type = HiveType.Parse("array<struct<id:string,n:int,m:map<string,string>,d:struct<x:double>>>");

        type.ToDuckDb().Should().Be("STRUCT(\"id\" VARCHAR, \"n\" INTEGER, \"m\" MAP(VARCHAR, VARCHAR), \"d\" STRUCT(\"x\" DOUBLE))[]");
    }

    [Theory]
    [InlineData("uniontype<int,string>")]
    [InlineData("struct<a>")]
    [InlineData("array<int")]
    [InlineData("decimal")]
    public void HiveType_Unsupported_Throws(string text)
    {
        var act = () => HiveType.Parse(text);

        act.Should().Throw<SqlSyntaxException>();
    }

    [Fact]
    public void Parse_NoCreateStatement_Throws()
    {
        var act = () => AthenaTableDefinition.Parse("SELECT 1");

        act.Should().Throw<SqlSyntaxException>();
    }

    private static AthenaTableDefinition Load(string name) =>
        AthenaTableDefinition.Parse(File.ReadAllText(Path.Combine(TablesDirectory, name + ".sql")));

    private static IEnumerable<string> LeafPaths(string prefix, HiveType type) => type.Kind switch
    {
        "struct" => type.Fields.SelectMany(f => LeafPaths(prefix + "." + f.Name, f.Type)).Prepend(prefix),
        "array" => LeafPaths(prefix, type.Arguments[0]),
        _ => [prefix],
    };

    /// <summary>subsegments.subsegments.http.request.url -> http.request.url (a subsegment's own field).</summary>
    private static string StripSubsegments(string path)
    {
        while (path.StartsWith("subsegments.", StringComparison.Ordinal))
        {
            path = path["subsegments.".Length..];
        }

        return path;
    }
}
