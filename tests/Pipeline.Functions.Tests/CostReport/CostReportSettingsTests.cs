using Pipeline.Core.Cost;
using Pipeline.Functions.Configuration;
using Pipeline.Functions.CostReport;

namespace Pipeline.Functions.Tests.CostReport;

public sealed class CostReportSettingsTests
{
    private static readonly Dictionary<string, string> Valid = new()
    {
        [EnvironmentNames.ArchiveBucket] = "archive",
        [EnvironmentNames.ReportSender] = "reports@example.com",
        [EnvironmentNames.ReportRecipients] = "ops@example.com, finance@example.com",
    };

    [Fact]
    public void FromEnvironment_ContractVariables_Bind()
    {
        var settings = Bind(Valid);

        settings.ArchiveBucket.Should().Be("archive");
        settings.Mail.To.Should().Equal("ops@example.com", "finance@example.com");
        settings.PriceTableSource.Should().Be(PriceTableSourceKind.BuiltIn);
        settings.Prices.Should().BeSameAs(PriceTable.Default);
    }

    [Fact]
    public void FromEnvironment_OnlyReadsTheVariablesTheContractListsForIt()
    {
        var read = new List<string>();

        CostReportSettings.FromEnvironment(name => { read.Add(name); return Valid.GetValueOrDefault(name); });

        read.Distinct().Should().BeSubsetOf(FunctionContract.Environment[FunctionContract.CostReportHandler]);
    }

    [Fact]
    public void FromEnvironment_NoRecipients_FailsNamingTheVariable()
    {
        var act = () => Bind(With(EnvironmentNames.ReportRecipients, " , "));

        act.Should().Throw<InvalidOperationException>().WithMessage("*REPORT_RECIPIENTS*No report recipients*");
    }

    [Fact]
    public void FromEnvironment_EverythingMissing_ListsEveryProblemAtOnce()
    {
        var act = () => Bind([]);

        act.Should().Throw<InvalidOperationException>().WithMessage("*ARCHIVE_BUCKET is not set*REPORT_SENDER*");
    }

    [Fact]
    public void FromEnvironment_InlinePriceTable_IsAppliedAtInit()
    {
        var settings = Bind(With(EnvironmentNames.PriceTable, """{"prices":{"sesEmails":{"usd":0.2}}}"""));

        settings.PriceTableSource.Should().Be(PriceTableSourceKind.Inline);
        settings.Prices.Prices.SesEmails.Usd.Should().Be(0.2m);
    }

    [Fact]
    public void FromEnvironment_BadInlinePriceTable_FailsAtInit()
    {
        var act = () => Bind(With(EnvironmentNames.PriceTable, """{"prices":{"sesEmail":{"usd":0.2}}}"""));

        act.Should().Throw<InvalidOperationException>().WithMessage("*PRICE_TABLE*sesEmail*");
    }

    [Theory]
    [InlineData("s3://archive/config/prices.json", PriceTableSourceKind.S3)]
    [InlineData("/etc/pipeline/prices.json", PriceTableSourceKind.File)]
    public void FromEnvironment_PriceTableReference_IsLeftForTheHandler(string value, PriceTableSourceKind kind)
    {
        var settings = Bind(With(EnvironmentNames.PriceTable, value));

        settings.PriceTableSource.Should().Be(kind);
        settings.PriceTableValue.Should().Be(value);
    }

    [Fact]
    public void FromEnvironment_S3UriWithoutKey_Fails()
    {
        var act = () => Bind(With(EnvironmentNames.PriceTable, "s3://archive/"));

        act.Should().Throw<InvalidOperationException>().WithMessage("*not s3://bucket/key*");
    }

    private static Dictionary<string, string> With(string name, string value) => new(Valid) { [name] = value };

    private static CostReportSettings Bind(Dictionary<string, string> variables) =>
        CostReportSettings.FromEnvironment(variables.GetValueOrDefault);
}
