using Pipeline.Core.Query;

namespace Pipeline.Core.Tests.Query;

public sealed class DuckDbArchiveViewsTests
{
    private const string Ddl = """
        -- A table.
        CREATE EXTERNAL TABLE IF NOT EXISTS things (
          id string,
          `user` string,
          http struct<status:int>
        )
        PARTITIONED BY (dt string, hour string)
        ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
        LOCATION 's3://${ArchiveBucket}/things/'
        TBLPROPERTIES ('storage.location.template' = 's3://${ArchiveBucket}/things/dt=${dt}/hour=${hour}/')
        """;

    [Fact]
    public void ObjectGlob_ProjectionTemplate_BecomesHiveGlob()
    {
        DuckDbArchiveViews.ObjectGlob(AthenaTableDefinition.Parse(Ddl), "/data/archive/")
            .Should().Be("/data/archive/things/dt=*/hour=*/*");
    }

    [Fact]
    public void CreateView_Json_ReadsTypedColumnsWithHivePartitions()
    {
        var sql = DuckDbArchiveViews.CreateView(AthenaTableDefinition.Parse(Ddl), "/a'b", hasObjects: true);

        sql.Should().StartWith("CREATE OR REPLACE VIEW \"things\" AS SELECT \"id\", \"user\", \"http\", \"dt\", \"hour\" FROM read_json('/a''b/things/dt=*/hour=*/*'");
        sql.Should().Contain("columns = {'id': 'VARCHAR', 'user': 'VARCHAR', 'http': 'STRUCT(\"status\" INTEGER)'}");
        sql.Should().Contain("hive_partitioning = true, hive_types = {'dt': 'VARCHAR', 'hour': 'VARCHAR'}");
    }

    [Fact]
    public void CreateView_NoObjects_IsEmptyWithTheSameColumns()
    {
        var sql = DuckDbArchiveViews.CreateView(AthenaTableDefinition.Parse(Ddl), "/a", hasObjects: false);

        sql.Should().Be("CREATE OR REPLACE VIEW \"things\" AS SELECT CAST(NULL AS VARCHAR) AS \"id\", CAST(NULL AS VARCHAR) AS \"user\", " +
            "CAST(NULL AS STRUCT(\"status\" INTEGER)) AS \"http\", CAST(NULL AS VARCHAR) AS \"dt\", CAST(NULL AS VARCHAR) AS \"hour\" WHERE false");
    }
}

public sealed class ParquetCompactionTests
{
    private static readonly AthenaTableDefinition Segments = Load("segments");
    private static readonly AthenaTableDefinition SegmentsParquet = Load("segments_parquet");

    [Fact]
    public void SegmentsParquet_Columns_AreExactlyThoseOfSegments()
    {
        // The DuckDB rendering of a type spells out every nested field, so equal text is an equal type.
        static string Describe(TableColumn c) => c.Name + " " + c.Type.ToDuckDb();
        SegmentsParquet.Columns.Select(Describe).Should().Equal(Segments.Columns.Select(Describe));
        SegmentsParquet.PartitionKeys.Select(Describe).Should().Equal(Segments.PartitionKeys.Select(Describe));
        SegmentsParquet.SerDe.Should().Be(AthenaTableDefinition.ParquetSerDe);
        SegmentsParquet.KeyTemplate.Should().Be("segments_parquet/dt=${dt}/hour=${hour}/");
    }

    [Fact]
    public void ObjectKey_Hour_IsOneFixedObjectPerHour()
    {
        ParquetCompaction.ObjectKey(SegmentsParquet, "2026-11-25", "07").Should().Be("segments_parquet/dt=2026-11-25/hour=07/part-00000.parquet");
    }

    [Fact]
    public void CopyStatement_Hour_SelectsTheTargetColumnsOfThatPartition()
    {
        var sql = ParquetCompaction.CopyStatement(Segments, SegmentsParquet, "2026-11-25", "07", "/x/y.parquet");

        sql.Should().StartWith("COPY (SELECT \"trace_id\", \"id\", ").And.Contain("FROM \"segments\" WHERE \"dt\" = '2026-11-25' AND \"hour\" = '07')")
            .And.EndWith("TO '/x/y.parquet' (FORMAT PARQUET, COMPRESSION ZSTD)");
    }

    [Theory]
    [InlineData("2026-11-25", "24")]
    [InlineData("2026-11-25", "7")]
    [InlineData("2026-11-25", "07' OR '1")]
    [InlineData("25-11-2026", "07")]
    public void ObjectKey_BadPartition_Throws(string dt, string hour)
    {
        var act = () => ParquetCompaction.ObjectKey(SegmentsParquet, dt, hour);

        act.Should().Throw<ArgumentException>();
    }

    private static AthenaTableDefinition Load(string name) =>
        AthenaTableDefinition.Parse(File.ReadAllText(Path.Combine(Pipeline.Testing.RepoPaths.Root, "athena", "tables", name + ".sql")));
}
