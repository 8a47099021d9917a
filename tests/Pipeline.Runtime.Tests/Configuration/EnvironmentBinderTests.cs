using Pipeline.Runtime.Configuration;

namespace Pipeline.Runtime.Tests.Configuration;

public sealed class EnvironmentBinderTests
{
    private enum Engine
    {
        Stream,
        Sql,
    }

    [Fact]
    public void Getters_UnsetOrBlank_GiveTheFallback()
    {
        var env = new EnvironmentBinder(new DictionaryEnvironment { ["BLANK"] = "  " });

        env.Int("UNSET", 7, 1, 10).Should().Be(7);
        env.Int("BLANK", 7, 1, 10).Should().Be(7);
        env.Bool("UNSET", fallback: true).Should().BeTrue();
        env.Duration("UNSET", TimeSpan.FromSeconds(3), TimeSpan.Zero, TimeSpan.FromMinutes(1)).Should().Be(TimeSpan.FromSeconds(3));
        env.Url("UNSET").Should().BeNull();
        env.Choice("UNSET", Engine.Sql, ("stream", Engine.Stream)).Should().Be(Engine.Sql);
        env.Text("BLANK").Should().BeNull();
        env.Problems.Should().BeEmpty();
    }

    [Fact]
    public void Getters_GoodValues_AreReadTrimmed()
    {
        var env = new EnvironmentBinder(new DictionaryEnvironment
        {
            ["N"] = " 42 ",
            ["F"] = "FALSE",
            ["D"] = "1m30s",
            ["R"] = "0.25",
            ["U"] = "http://127.0.0.1:5000/",
            ["E"] = "Athena",
        });

        env.Int("N", 0, 1, 100).Should().Be(42);
        env.Bool("F", fallback: true).Should().BeFalse();
        env.Duration("D", TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromHours(1)).Should().Be(TimeSpan.FromSeconds(90));
        env.Double("R", 0.1, 0, 1).Should().Be(0.25);
        env.Url("U").Should().Be(new Uri("http://127.0.0.1:5000/"));
        env.Choice("E", Engine.Stream, ("stream", Engine.Stream), ("sql", Engine.Sql), ("athena", Engine.Sql)).Should().Be(Engine.Sql);
        env.ThrowIfInvalid();
    }

    [Theory]
    [InlineData("0", "GRAPH_WINDOW_MINUTES: '0' is not a whole number from 1 to 1440")]
    [InlineData("1h", "GRAPH_WINDOW_MINUTES: '1h' is not a whole number from 1 to 1440")]
    [InlineData("99999999999", "GRAPH_WINDOW_MINUTES: '99999999999' is not a whole number from 1 to 1440")]
    public void Int_BadValue_NamesTheVariableAndTheValue(string value, string expected)
    {
        var env = new EnvironmentBinder(new DictionaryEnvironment { ["GRAPH_WINDOW_MINUTES"] = value });

        env.Int("GRAPH_WINDOW_MINUTES", 60, 1, 1440).Should().Be(60);
        env.Problems.Should().Equal(expected);
    }

    [Fact]
    public void EachKind_BadValue_NamesTheVariableAndTheValue()
    {
        var env = new EnvironmentBinder(new DictionaryEnvironment
        {
            ["B"] = "yes",
            ["D"] = "30",
            ["LONG"] = "2h",
            ["U"] = "ftp://x/",
            ["E"] = "spark",
            ["R"] = "NaN",
        });

        env.Bool("B", false);
        env.Duration("D", TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromHours(1));
        env.Duration("LONG", TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromHours(1));
        env.Url("U");
        env.Choice("E", Engine.Stream, ("stream", Engine.Stream), ("sql", Engine.Sql));
        env.Double("R", 0.1, 0, 1);
        env.Required("BUCKET", "the archive bucket");

        env.Problems.Should().Equal(
            "B: 'yes' is not true or false",
            "D: '30' has no unit: write 30s, 30ms, 30m or 30h (a bare number is ambiguous)",
            "LONG: '2h' is not between 0 and 1h",
            "U: 'ftp://x/' is not an absolute http(s) URL",
            "E: 'spark' is not one of stream, sql",
            "R: 'NaN' is not a number from 0 to 1",
            "BUCKET is required (the archive bucket)");
    }

    [Fact]
    public void ThrowIfInvalid_SeveralProblems_ListsEveryOne()
    {
        var env = new EnvironmentBinder(new DictionaryEnvironment { ["A"] = "x" });
        env.Int("A", 1);
        env.Required("B", "needed");

        var act = env.ThrowIfInvalid;

        act.Should().Throw<ConfigurationException>()
            .Which.Problems.Should().Equal("A: 'x' is not a whole number", "B is required (needed)");
    }

    [Fact]
    public void Parsed_ParserRejects_BecomesAProblemNamingTheVariable()
    {
        var env = new EnvironmentBinder(new DictionaryEnvironment { ["RULES"] = "[" });

        var value = env.Parsed<IReadOnlyList<string>>("RULES", [], _ => throw new FormatException("is not a JSON array"));

        value.Should().BeEmpty();
        env.Problems.Should().Equal("RULES: is not a JSON array");
    }

    [Fact]
    public void DictionaryEnvironment_SetAndRemove_AreSeenByReads()
    {
        var environment = new DictionaryEnvironment { ["A"] = "1" };
        environment.SetVariable("B", "2");
        environment.SetVariable("A", null);

        environment.GetVariable("A").Should().BeNull();
        environment.GetVariable("B").Should().Be("2");
        environment.With("C", "3").Select(v => v.Key).Should().Equal("B", "C");
        environment.GetVariable("C").Should().BeNull("With copies");
    }

    [Fact]
    public void ProcessEnvironment_ReadsTheRealEnvironment()
    {
        ProcessEnvironment.Instance.GetVariable("PATH").Should().NotBeNullOrEmpty();
        ProcessEnvironment.Instance.GetVariable("PIPELINE_SURELY_UNSET_" + Guid.NewGuid().ToString("N")).Should().BeNull();
    }
}
