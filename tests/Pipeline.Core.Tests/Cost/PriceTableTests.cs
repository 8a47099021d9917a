using Pipeline.Core.Cost;

namespace Pipeline.Core.Tests.Cost;

public sealed class PriceTableTests
{
    [Fact]
    public void Default_IsDatedForUsEast1_WithTheXRayPricesAndASourceForEachFigure()
    {
        var table = PriceTable.Default;

        table.Region.Should().Be("us-east-1");
        table.RetrievedOn.Should().Be(new DateOnly(2026, 11, 25));
        table.Prices.XRayTracesRecorded.Should().BeEquivalentTo(new { Usd = 5.00m, Per = 1_000_000m, FreePerMonth = 100_000m });
        table.Prices.XRayTracesRetrieved.Should().BeEquivalentTo(new { Usd = 0.50m, Per = 1_000_000m, FreePerMonth = 1_000_000m });
        table.Prices.LambdaArmGbSecond.FreePerMonth.Should().Be(400_000m);
        table.Prices.All().Should().OnlyContain(p => p.Price.Source.StartsWith("https://aws.amazon.com/", StringComparison.Ordinal));
    }

    [Fact]
    public void Default_FileInTheRepository_IsTheEmbeddedTable()
    {
        var json = File.ReadAllText(Path.Combine(Pipeline.Testing.RepoPaths.Root, "functions", "Pipeline.Core", "Cost", "price-table.json"));

        PriceTable.Parse(json).Should().BeEquivalentTo(PriceTable.Default);
    }

    [Fact]
    public void WithOverride_PartialEntry_ReplacesOnlyWhatItNames()
    {
        var table = PriceTable.Default.WithOverride("""
            { "tableVersion": "acme-2027-01", "prices": { "xrayTracesRecorded": { "usd": 4.5 } } }
            """);

        table.TableVersion.Should().Be("acme-2027-01");
        table.Prices.XRayTracesRecorded.Usd.Should().Be(4.5m);
        table.Prices.XRayTracesRecorded.FreePerMonth.Should().Be(100_000m);
        table.Prices.XRayTracesRecorded.Source.Should().Be("user override");
        table.Prices.LambdaRequests.Should().Be(PriceTable.Default.Prices.LambdaRequests);
        table.Prices.XRayTracesRecorded.Cost(1_100_000).Should().Be(4.5m);
    }

    [Fact]
    public void WithOverride_NoVersion_MarksTheTableAsOverridden()
    {
        PriceTable.Default.WithOverride("""{ "region": "eu-west-1" }""").TableVersion
            .Should().Be(PriceTable.Default.TableVersion + "+override");
    }

    [Theory]
    [InlineData("""{ "prices": { "xrayTraceRecorded": { "usd": 1 } } }""", "xrayTraceRecorded")]
    [InlineData("""{ "prices": { "sesEmails": { "per": 0 } } }""", "SesEmails")]
    [InlineData("""{ "prices": { "sesEmails": { "usd": -1 } } }""", "SesEmails")]
    [InlineData("""not json""", "not valid")]
    public void WithOverride_TyposAndBadFigures_AreRefusedByName(string json, string named)
    {
        var act = () => PriceTable.Default.WithOverride(json);

        act.Should().Throw<FormatException>().WithMessage($"*{named}*");
    }

    [Fact]
    public void Parse_TableMissingAnEntry_IsRefused()
    {
        var json = PriceTable.Default.ToJson().Replace("\"sesEmails\"", "\"unused\"", StringComparison.Ordinal);

        var act = () => PriceTable.Parse(json);

        act.Should().Throw<FormatException>();
    }
}
