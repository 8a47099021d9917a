using FsCheck;
using FsCheck.Fluent;
using Pipeline.Core.Query;

namespace Pipeline.Core.Tests.Query;

public sealed class AthenaToDuckDbTests
{
    [Theory]
    [InlineData("approx_percentile(d, 0.99)", "quantile_disc(d, 0.99)")]
    [InlineData("approx_distinct(trace_id)", "approx_count_distinct(trace_id)")]
    [InlineData("count_if(error)", "count(CASE WHEN error THEN 1 END)")]
    [InlineData("from_unixtime(start_time)", "make_timestamp(CAST(round((start_time) * 1000000) AS BIGINT))")]
    [InlineData("to_unixtime(ts)", "epoch(ts)")]
    [InlineData("from_iso8601_timestamp(arrival)", "CAST(arrival AS TIMESTAMPTZ)")]
    [InlineData("json_extract_scalar(line, '$.a.b')", "try(json_extract_string(line, '$.a.b'))")]
    [InlineData("json_extract(line, '$.a')", "try(json_extract(line, '$.a'))")]
    [InlineData("json_parse(raw)", "json(raw)")]
    [InlineData("json_format(j)", "CAST(j AS VARCHAR)")]
    [InlineData("from_utf8(from_base64(b))", "decode(from_base64(b))")]
    [InlineData("element_at(annotations, 'k')", "(annotations)['k']")]
    [InlineData("cardinality(subsegments)", "len(subsegments)")]
    [InlineData("array_join(names, ',')", "array_to_string(names, ',')")]
    [InlineData("regexp_like(name, '^svc')", "regexp_matches(name, '^svc')")]
    public void Translate_EachRule_RewritesTheCall(string athena, string duckDb)
    {
        AthenaToDuckDb.Translate($"SELECT {athena} FROM t").Should().Be($"SELECT {duckDb} FROM t");
    }

    [Fact]
    public void Translate_RuleNames_AreCaseInsensitive()
    {
        AthenaToDuckDb.Translate("SELECT APPROX_PERCENTILE(x, 0.5)").Should().Be("SELECT quantile_disc(x, 0.5)");
    }

    [Theory]
    [InlineData("'%Y-%m-%d %H:%i:%s'", "'%Y-%m-%d %H:%M:%S'")]
    [InlineData("'%M %e, %Y'", "'%B %-d, %Y'")]
    [InlineData("'%T.%f'", "'%H:%M:%S.%f'")]
    [InlineData("'100%%'", "'100%%'")]
    [InlineData("'it''s %H'", "'it''s %H'")]
    public void Translate_DateFormat_MapsMySqlSpecifiersToStrftime(string athenaFormat, string duckFormat)
    {
        AthenaToDuckDb.Translate($"date_format(ts, {athenaFormat})").Should().Be($"strftime(ts, {duckFormat})");
    }

    [Theory]
    [InlineData("date_format(ts, '%U')")]
    [InlineData("date_format(ts, '%')")]
    [InlineData("date_format(ts, fmt_column)")]
    public void Translate_DateFormatWithoutEquivalent_Throws(string sql)
    {
        var act = () => AthenaToDuckDb.Translate(sql);

        act.Should().Throw<SqlSyntaxException>();
    }

    [Fact]
    public void Translate_NestedCalls_RewritesInsideOut()
    {
        var sql = "date_format(date_trunc('hour', from_unixtime(min(start_time))), '%H:%i')";

        AthenaToDuckDb.Translate(sql).Should().Be(
            "strftime(date_trunc('hour', make_timestamp(CAST(round((min(start_time)) * 1000000) AS BIGINT))), '%H:%M')");
    }

    [Fact]
    public void Translate_ElementAtWithComplexArguments_KeepsThemWhole()
    {
        AthenaToDuckDb.Translate("element_at(map(ARRAY['a', 'b'], ARRAY[1, 2]), lower('A'))")
            .Should().Be("(map(ARRAY['a', 'b'], ARRAY[1, 2]))[lower('A')]");
    }

    [Theory]
    [InlineData("SELECT 'cardinality(x)' AS s")]
    [InlineData("SELECT \"count_if\"(x)")]
    [InlineData("SELECT x -- element_at(a, 1)\nFROM t")]
    [InlineData("SELECT /* approx_percentile(a, 1) */ x")]
    [InlineData("SELECT s.cardinality(x) FROM t")]
    [InlineData("SELECT cardinality FROM t")]
    public void Translate_NamesInStringsCommentsQuotesOrAfterDot_AreLeftAlone(string sql)
    {
        AthenaToDuckDb.Translate(sql).Should().Be(sql);
    }

    [Fact]
    public void Translate_CrossJoinUnnest_PassesThroughBecauseDuckDbAcceptsIt()
    {
        const string Sql = "SELECT sub.name FROM segments s CROSS JOIN UNNEST(s.subsegments) AS t(sub)";

        AthenaToDuckDb.Translate(Sql).Should().Be(Sql);
    }

    [Theory]
    [InlineData("approx_percentile(x)")]
    [InlineData("approx_percentile(x, 0.5, w)")]
    [InlineData("element_at(m)")]
    [InlineData("from_unixtime(x, 'UTC')")]
    public void Translate_WrongArgumentCount_Throws(string sql)
    {
        var act = () => AthenaToDuckDb.Translate(sql);

        act.Should().Throw<SqlSyntaxException>();
    }

    [Theory]
    [InlineData("SELECT 'unterminated")]
    [InlineData("SELECT cardinality(x")]
    [InlineData("SELECT /* open")]
    public void Translate_MalformedText_Throws(string sql)
    {
        var act = () => AthenaToDuckDb.Translate(sql);

        act.Should().Throw<SqlSyntaxException>();
    }

    [Fact]
    public void Translate_TextWithoutRewrittenFunctions_IsUnchanged()
    {
        // Words, numbers, punctuation and quoted pieces that name no rewritten function.
        var pieces = Gen.Elements("SELECT", "a.b", "count(*)", "'x''y'", "\"q\"", " ", "\n", ",", "(", ")",
            "1.5e3", "-- c\n", "/* c */", "::", ":", "<>", "sum(x)", "coalesce(a, b)", "[1]");
        var property = Prop.ForAll(
            Gen.ListOf(pieces).Select(p => string.Concat(p)).ToArbitrary(),
            sql => AthenaToDuckDb.Translate(sql) == sql);

        property.QuickCheckThrowOnFailure();
    }
}
