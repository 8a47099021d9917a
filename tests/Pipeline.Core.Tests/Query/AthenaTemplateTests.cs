using Pipeline.Core.Query;

namespace Pipeline.Core.Tests.Query;

public sealed class AthenaTemplateTests
{
    private const string Ddl = """
        -- a comment line is not DDL
        CREATE EXTERNAL TABLE IF NOT EXISTS spans_raw (
          `line` string,
          http struct<request : struct<method:string>, status:int>
        )
        PARTITIONED BY (dt string, hour string)
        ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
        WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true', 'case.insensitive' = 'false')
        STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
        OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
        LOCATION 's3://${ArchiveBucket}/spans/'
        TBLPROPERTIES ('projection.enabled' = 'true', 'storage.location.template' = 's3://${ArchiveBucket}/spans/dt=${dt}/hour=${hour}/', 'a.quote' = 'say "hi"')
        """;

    [Fact]
    public void Render_ATable_KeepsPropertyOrderTypesAndEscapesProjectionPlaceholders()
    {
        var text = AthenaTemplate.Render([AthenaTableDefinition.Parse(Ddl)], []);

        text.Should().Contain("  SpansRawTable:\n    Type: AWS::Glue::Table\n")
            .And.Contain(Lines(
                "          \"projection.enabled\": \"true\"",
                "          \"storage.location.template\": !Sub \"s3://${ArchiveBucket}/spans/dt=${!dt}/hour=${!hour}/\"",
                "          \"a.quote\": \"say \\\"hi\\\"\""))
            .And.Contain(Lines(
                "            - Name: \"line\"",
                "              Type: \"string\"",
                "            - Name: \"http\"",
                "              Type: \"struct<request:struct<method:string>,status:int>\""))
            .And.Contain(Lines(
                "            Parameters:",
                "              \"ignore.malformed.json\": \"true\"",
                "              \"case.insensitive\": \"false\""))
            .And.Contain("Location: !Sub \"s3://${ArchiveBucket}/spans/\"")
            .And.Contain("InputFormat: \"org.apache.hadoop.mapred.TextInputFormat\"")
            .And.EndWith("\n").And.NotEndWith("\n\n");
    }

    [Fact]
    public void Render_AQuery_DescriptionFromTheHeaderAndTheBodyIndentedAsABlock()
    {
        var query = AthenaTemplate.QueryEntry.Parse("slow-things", "-- Which things are slow?\n-- Over a day.\n-- param: day date = today\nSELECT *   \nFROM t WHERE dt = :day\n\n\n");

        var text = AthenaTemplate.Render([], [query]);

        query.Description.Should().Be("Which things are slow? Over a day.");
        text.Should().Contain("""
              SlowThingsQuery:
                Type: AWS::Athena::NamedQuery
                Properties:
                  Name: "slow-things"
                  Description: "Which things are slow? Over a day."
                  Database: !Ref ArchiveDatabase
                  WorkGroup: !Ref AthenaWorkGroup
                  QueryString: |-
                    -- Which things are slow?
                    -- Over a day.
                    -- param: day date = today
                    SELECT *
                    FROM t WHERE dt = :day
            Outputs:
            """);
    }

    [Fact]
    public void QueryEntry_ALongDescription_IsCutToTheNamedQueryLimit()
    {
        var query = AthenaTemplate.QueryEntry.Parse("q", "-- " + new string('x', 2000) + "\nSELECT 1");

        query.Description.Should().HaveLength(AthenaTemplate.DescriptionMaxLength).And.EndWith("...");
    }

    [Fact]
    public void QueryEntry_LongerThanANamedQueryMayBe_IsRefused()
    {
        var act = () => AthenaTemplate.QueryEntry.Parse("q", "-- big\nSELECT '" + new string('x', AthenaTemplate.QueryMaxLength) + "'");

        act.Should().Throw<SqlSyntaxException>().WithMessage("q: * longer than a named query may be*");
    }

    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("tab\there", "\"tab\\there\"")]
    [InlineData("back\\slash", "\"back\\\\slash\"")]
    [InlineData("bell\u0007", "\"bell\\u0007\"")]
    [InlineData("naïve ✓", "\"naïve ✓\"")]
    public void Quote_WritesAJsonStringThatIsAYamlDoubleQuotedScalar(string value, string expected) =>
        AthenaTemplate.Quote(value).Should().Be(expected);

    private static string Lines(params string[] lines) => string.Join('\n', lines);

    [Theory]
    [InlineData("segments_raw", "SegmentsRaw")]
    [InlineData("top-urls-p99", "TopUrlsP99")]
    public void Pascal_NamesTheLogicalId(string name, string expected) =>
        AthenaTemplate.Pascal(name).Should().Be(expected);
}
