using Pipeline.Core.Query;
using Pipeline.Core.Traces;

namespace Pipeline.Core.Tests.Traces;

public sealed class TraceSearchTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static Func<string, IReadOnlyList<string>> Query(string query)
    {
        var pairs = query.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
            .Select(p => (Uri.UnescapeDataString(p[0]), Uri.UnescapeDataString(p.Length > 1 ? p[1] : ""))).ToList();
        return name => pairs.Where(p => p.Item1 == name).Select(p => p.Item2).ToList();
    }

    [Fact]
    public void TryParse_Nothing_IsTheLastHour()
    {
        var search = TraceSearch.TryParse(Query(""), Now, out var errors)!;

        errors.Should().BeEmpty();
        (search.From, search.To, search.Since).Should().Be((Now.AddHours(-1), Now, TimeSpan.FromHours(1)));
        search.ToQueryString().Should().Be("since=1h");
    }

    [Theory]
    [InlineData("since=15m&service=service-a&service=service-b&fault=1&min_ms=10&max_ms=250.5&method=GET&status=500&url=%2Fcheckout&annotation=customer%3Dalice&limit=20")]
    [InlineData("from=2026-11-25T07%3A00%3A00Z&to=2026-11-25T08%3A00%3A00Z&error=1&throttle=1")]
    public void ToQueryString_OfAParsedSearch_IsTheSameSearch(string query)
    {
        var search = TraceSearch.TryParse(Query(query), Now, out _)!;

        search.ToQueryString().Should().Be(query);
        TraceSearch.TryParse(Query(search.ToQueryString()), Now, out _).Should().BeEquivalentTo(search);
    }

    [Fact]
    public void Absolute_FixesARelativeWindow()
    {
        var search = TraceSearch.TryParse(Query("since=2h&fault=1"), Now, out _)!;

        search.Absolute().ToQueryString().Should().Be("from=2026-11-25T10%3A00%3A00Z&to=2026-11-25T12%3A00%3A00Z&fault=1");
    }

    [Theory]
    [InlineData("since=8d", "since")]
    [InlineData("since=abc", "since")]
    [InlineData("from=2026-11-25T09:00:00Z&to=2026-11-25T08:00:00Z", "to")]
    [InlineData("status=42", "status")]
    [InlineData("method=GE%3BT", "method")]
    [InlineData("annotation=no-equals", "annotation")]
    [InlineData("annotation=bad-key%3Dv", "annotation")]
    [InlineData("min_ms=NaN", "min_ms")]
    [InlineData("min_ms=5&max_ms=1", "max_ms")]
    [InlineData("limit=0", "limit")]
    [InlineData("service=a&service=b&service=c&service=d&service=e", "service")]
    public void TryParse_BadValue_NamesTheParameter(string query, string parameter)
    {
        TraceSearch.TryParse(Query(query), Now, out var errors).Should().BeNull();
        errors.Should().Contain(e => e.StartsWith(parameter + ":", StringComparison.Ordinal));
    }

    [Fact]
    public void TryParse_LongText_IsRefused()
    {
        TraceSearch.TryParse(Query("url=" + new string('x', TraceSearch.MaxTextLength + 1)), Now, out var errors).Should().BeNull();
        errors.Should().ContainSingle().Which.Should().StartWith("url:");
    }

    [Fact]
    public void Sql_QuotesLiteralsAndNamesOnlyTheWindowsHours()
    {
        var search = TraceSearch.TryParse(Query("from=2026-11-25T07%3A30%3A00Z&to=2026-11-25T08%3A30%3A00Z&service=o'brien&annotation=k%3D'%3B%20DROP"), Now, out _)!;

        var sql = TraceSearchSql.Traces(search);

        sql.Should().Contain("WHERE ((dt = '2026-11-25' AND \"hour\" IN ('07', '08')))")
            .And.Contain("name = 'o''brien'").And.Contain("element_at(annotations, 'k') = '''; DROP'")
            .And.EndWith("LIMIT 100");
        var translate = () => AthenaToDuckDb.Translate(sql);
        translate.Should().NotThrow("the SQL is well formed for the translator");
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(2, 2)]
    [InlineData(-2, 0.5)]
    public void BucketStartMs_IsHalfOctaves(int bucket, double ms)
    {
        TraceSearchSql.BucketStartMs(bucket).Should().BeApproximately(ms, 1e-9);
    }
}
