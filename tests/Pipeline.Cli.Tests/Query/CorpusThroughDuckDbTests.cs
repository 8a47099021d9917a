using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Pipeline.Cli.Query;
using Pipeline.Testing;

namespace Pipeline.Cli.Tests.Query;

/// <summary>
/// The real segment documents the manifest calls valid, archived as the ingest does, read
/// through the DDL-derived views: every document reads (no type mismatch turns a row to NULLs)
/// and nested fields come out where the DDL says.
/// </summary>
public sealed class CorpusThroughDuckDbTests : IDisposable
{
    private static readonly AthenaSqlFiles Files = AthenaSqlFiles.Locate(RepoPaths.Root);
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("pipeline-query-corpus-");
    private readonly int _documents;

    public CorpusThroughDuckDbTests()
    {
        var lines = File.ReadAllLines(Path.Combine(RepoPaths.RealSegmentsCorpus, "MANIFEST.tsv"))
            .Skip(1)
            .Select(l => l.Split('\t'))
            .Where(f => f.Length > 3 && f[3] == "valid")
            .Select(f => JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.RealSegmentsCorpus, f[0])))!.ToJsonString())
            .ToList();
        _documents = lines.Count;
        var path = Path.Combine(_root.FullName, "segments", "dt=2026-11-25", "hour=00", "shardId-000000000000-1.ndjson.gz");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
    }

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void ValidCorpus_EveryDocument_ReadsWithItsRequiredFields()
    {
        var row = Run("SELECT count(*), count(trace_id), count(id), count(name), count(start_time) FROM segments").Single();

        _documents.Should().BeGreaterThan(10);
        row.Should().AllBe(_documents.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void ValidCorpus_NestedFields_ComeOutWhereTheDdlSays()
    {
        // Scorekeep (Java SDK): Elastic Beanstalk deployment id, a custom subsegment with a DynamoDB child.
        Run("""
            SELECT s.aws.elastic_beanstalk.deployment_id, sub2.aws.table_name, sub2.namespace
            FROM segments s CROSS JOIN UNNEST(s.subsegments) AS t(sub) CROSS JOIN UNNEST(sub.subsegments) AS t2(sub2)
            WHERE s.id = '194fcc8747581230'
            """).Single().Should().Equal("406", "scorekeep-user", "aws");

        // Lambda function segment: annotations on a subsegment.
        Run("""
            SELECT element_at(sub.annotations, 'UserID') FROM segments s CROSS JOIN UNNEST(s.subsegments) AS t(sub)
            WHERE s.id = '00f91aa01f4984fd' AND sub.name = 'annotations'
            """).Single().Should().Equal("5M388M1E");

        // Exponent-notation times read as numbers.
        Run("SELECT start_time, round((end_time - start_time) * 1000, 3) FROM segments WHERE trace_id = '1-581cf771-a006649127e371903a2de979' AND id = '70de5b6f19ff9a0a' AND end_time IS NOT NULL")
            .Single().Should().Equal("1478293361.271", "178");
    }

    private List<IReadOnlyList<string?>> Run(string sql) =>
        DuckDbQueryRunner.Run(sql, _root.FullName, Files.Tables(), 100).Rows.ToList();
}
