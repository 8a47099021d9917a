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
