using Pipeline.Core.Query;

namespace Pipeline.Core.Tests.Query;

public sealed class NamedQueryTests
{
    private const string Text = """
        -- Which segments have this name,
        -- and when?
        -- param: name string
        -- param: dt_from date = today-1
        -- param: limit number = 20
        SELECT id FROM segments WHERE name = :name AND dt >= ${dt_from} LIMIT :limit
        """;

    private static readonly DateOnly Today = new(2026, 11, 25);

    [Fact]
    public void Parse_Header_ReadsDescriptionAndParameters()
    {
        var query = NamedQuery.Parse("q", Text);

        query.Description.Should().Be("Which segments have this name, and when?");
        query.Parameters.Should().Equal(
            new QueryParameter("name", QueryParameterType.Text, null),
            new QueryParameter("dt_from", QueryParameterType.Date, "today-1"),
            new QueryParameter("limit", QueryParameterType.Number, "20"));
    }

    [Fact]
    public void Bind_AllForms_SubstitutesQuotedLiteralsAndDefaults()
    {
        var sql = NamedQuery.Parse("q", Text).Bind(new Dictionary<string, string> { ["name"] = "svc" }, Today);

        sql.Should().EndWith("SELECT id FROM segments WHERE name = 'svc' AND dt >= '2026-11-24' LIMIT 20");
    }

    [Fact]
    public void Bind_QuoteInString_IsDoubledSoItStaysALiteral()
    {
        var sql = NamedQuery.Parse("q", Text).Bind(new Dictionary<string, string> { ["name"] = "x' OR '1'='1" }, Today);

        sql.Should().Contain("name = 'x'' OR ''1''=''1' AND");
    }

    [Theory]
    [InlineData("limit", "1; DROP TABLE x")]
    [InlineData("limit", "1e9")]
    [InlineData("limit", "")]
    [InlineData("dt_from", "2026-13-01")]
    [InlineData("dt_from", "2026-11-25' OR '1'='1")]
    [InlineData("name", "line\nbreak")]
    [InlineData("name", "nul\0")]
    public void Bind_InvalidValue_Throws(string parameter, string value)
    {
        var values = new Dictionary<string, string> { ["name"] = "svc", [parameter] = value };

        var act = () => NamedQuery.Parse("q", Text).Bind(values, Today);

        act.Should().Throw<QueryParameterException>().WithMessage($"*{parameter}*");
    }

    [Fact]
    public void Bind_OverlongString_Throws()
    {
        var values = new Dictionary<string, string> { ["name"] = new('a', NamedQuery.MaxStringParameterLength + 1) };

        var act = () => NamedQuery.Parse("q", Text).Bind(values, Today);

        act.Should().Throw<QueryParameterException>();
    }

    [Fact]
    public void Bind_MissingRequired_ThrowsNamingIt()
    {
        var act = () => NamedQuery.Parse("q", Text).Bind(new Dictionary<string, string>(), Today);

        act.Should().Throw<QueryParameterException>().WithMessage("*missing*name*");
    }

    [Fact]
    public void Bind_UnknownParameter_ThrowsListingKnownOnes()
    {
        var values = new Dictionary<string, string> { ["name"] = "svc", ["nmae"] = "typo" };

        var act = () => NamedQuery.Parse("q", Text).Bind(values, Today);

        act.Should().Throw<QueryParameterException>().WithMessage("*nmae*known: name, dt_from, limit*");
    }

    [Fact]
    public void Bind_PlaceholdersInStringsCommentsAndCasts_AreLeftAlone()
    {
        const string Sql = """
            -- Test query.
            -- param: x string
            SELECT ':x', "x:x", 1::INTEGER, :x /* :x */ -- :x
            """;

        var bound = NamedQuery.Parse("q", Sql).Bind(new Dictionary<string, string> { ["x"] = "v" }, Today);

        bound.Should().EndWith("SELECT ':x', \"x:x\", 1::INTEGER, 'v' /* :x */ -- :x");
    }

    [Fact]
    public void Parse_UndeclaredPlaceholder_Throws()
    {
        var act = () => NamedQuery.Parse("q", "-- Test.\nSELECT :undeclared");

        act.Should().Throw<SqlSyntaxException>().WithMessage("*undeclared*");
    }

    [Theory]
    [InlineData("SELECT 1")]
    [InlineData("--\nSELECT 1")]
    [InlineData("-- param: x string\nSELECT :x")]
    public void Parse_NoDescription_Throws(string text)
    {
        var act = () => NamedQuery.Parse("q", text);

        act.Should().Throw<SqlSyntaxException>();
    }

    [Theory]
    [InlineData("-- T.\n-- param: x text\nSELECT :x")]
    [InlineData("-- T.\n-- param: x number = abc\nSELECT :x")]
    [InlineData("-- T.\n-- param: x date = yesterday\nSELECT :x")]
    public void Parse_BadDeclaration_ThrowsAtLoad(string text)
    {
        var act = () => NamedQuery.Parse("q", text);

        act.Should().Throw<Exception>().Where(e => e is SqlSyntaxException || e is QueryParameterException);
    }

    [Fact]
    public void AdHoc_Placeholders_BindAsStrings()
    {
        var sql = NamedQuery.AdHoc("SELECT * FROM segments WHERE trace_id = :t")
            .Bind(new Dictionary<string, string> { ["t"] = "1-abc" }, Today);

        sql.Should().Be("SELECT * FROM segments WHERE trace_id = '1-abc'");
    }
}
