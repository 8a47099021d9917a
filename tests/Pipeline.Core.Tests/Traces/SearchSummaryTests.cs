using Pipeline.Core.Archive;
using Pipeline.Core.Traces;

namespace Pipeline.Core.Tests.Traces;

public sealed class SearchSummaryTests
{
    private static readonly IndexedObject A = new("segments/dt=2026-11-25/hour=07/a.ndjson.gz", 100);
    private static readonly IndexedObject B = new("segments/dt=2026-11-25/hour=07/b.ndjson.gz", 200);
    private static readonly IndexedObject Late = new("segments/dt=2026-11-25/hour=07/c.ndjson.gz", 50);

    [Fact]
    public void Key_IsBesideTheTraceIndex()
    {
        SearchSummary.Key(new ArchiveHour(new DateTimeOffset(2026, 11, 25, 7, 0, 0, TimeSpan.Zero)))
            .Should().Be("trace-index/dt=2026-11-25/hour=07/search.parquet");
    }

    [Fact]
    public void EncodeObjects_DecodeObjects_RoundTrips()
    {
        var decoded = SearchSummary.DecodeObjects(SearchSummary.EncodeObjects([B, A]));

        decoded.Should().Equal(A, B);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("# pipeline search-summary v0\n100 k\n")]
    [InlineData("# pipeline search-summary v1\nx k\n")]
    [InlineData("# pipeline search-summary v1\n100\n")]
    [InlineData("# pipeline search-summary v1\n-1 k\n")]
    [InlineData("# pipeline search-summary v1\n100 \n")]
    public void DecodeObjects_NotOurs_IsNull(string? value)
    {
        SearchSummary.DecodeObjects(value).Should().BeNull();
    }

    [Fact]
    public void EncodeObjects_KeyWithLineBreak_Throws()
    {
        var act = () => SearchSummary.EncodeObjects([new IndexedObject("segments/a\n1 b", 1)]);

        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Cover_Unchanged_ReadsNothingRaw()
    {
        var cover = SearchSummary.Cover([A, B], [B, A]);

        cover.UseSummary.Should().BeTrue();
        cover.Raw.Should().BeEmpty();
    }

    [Fact]
    public void Cover_LateObject_IsReadRawBesideTheSummary()
    {
        var cover = SearchSummary.Cover([A, B], [A, B, Late]);

        cover.UseSummary.Should().BeTrue();
        cover.Raw.Should().Equal(Late.Key);
    }

    [Fact]
    public void Cover_RewrittenObject_ReadsTheWholeHourRaw()
    {
        var cover = SearchSummary.Cover([A, B], [A, B with { Size = 300 }, Late]);

        cover.UseSummary.Should().BeFalse();
        cover.Raw.Should().Equal(A.Key, B.Key, Late.Key);
    }

    [Fact]
    public void Cover_ObjectGone_ReadsTheWholeHourRaw()
    {
        var cover = SearchSummary.Cover([A, B], [A]);

        cover.UseSummary.Should().BeFalse();
        cover.Raw.Should().Equal(A.Key);
    }

    [Fact]
    public void Cover_NoSummary_ReadsEverythingRaw()
    {
        var cover = SearchSummary.Cover(null, [B, A]);

        cover.UseSummary.Should().BeFalse();
        cover.Raw.Should().Equal(A.Key, B.Key);
    }

    [Fact]
    public void Projection_KeepsEveryColumnTheSearchReads()
    {
        var sql = TraceSearchSql.Matches(new TraceSearch
        {
            From = DateTimeOffset.UnixEpoch,
            To = DateTimeOffset.UnixEpoch.AddHours(1),
            Services = ["x"],
            Error = true,
            Fault = true,
            Throttle = true,
            HttpMethod = "GET",
            HttpStatus = 500,
            UrlContains = "/u",
            AnnotationKey = "k",
            AnnotationValue = "v",
        });

        foreach (var column in new[] { "trace_id", "parent_id", "type", "name", "start_time", "end_time", "error", "fault", "throttle", "http", "annotations", "subsegments" })
        {
            sql.Should().Contain(column);
            SearchSummary.Projection.Should().Contain(column);
        }

        foreach (var field in new[] { ".aws.table_name", ".aws.queue_url", ".sql.url", ".http.request.url", ".subsegments", "http.request.method", "http.response.status" })
        {
            sql.Should().Contain(field);
            SearchSummary.Projection.Should().Contain(field);
        }
    }
}
