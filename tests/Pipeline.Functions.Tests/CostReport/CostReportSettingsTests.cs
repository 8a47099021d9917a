using Pipeline.Core.Cost;
using Pipeline.Functions.Configuration;
using Pipeline.Functions.CostReport;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;

namespace Pipeline.Functions.Tests.CostReport;

public sealed class CostReportSettingsTests
{
    private static readonly DictionaryEnvironment Valid = new()
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
        var environment = new RecordingEnvironment(Valid);

        CostReportSettings.FromEnvironment(environment);

        environment.Read.Distinct().Should().BeSubsetOf(FunctionContract.Environment[FunctionContract.CostReportHandler]);
    }

    [Fact]
    public void FromEnvironment_NoRecipients_FailsNamingTheVariable()
    {
        var act = () => Bind(With(EnvironmentNames.ReportRecipients, " , "));

        act.Should().Throw<ConfigurationException>().WithMessage("*REPORT_RECIPIENTS*No report recipients*");
    }

    [Fact]
    public void FromEnvironment_EverythingMissing_ListsEveryProblemAtOnce()
    {
        var act = () => Bind(new DictionaryEnvironment());

        act.Should().Throw<ConfigurationException>().WithMessage("ARCHIVE_BUCKET is required*; REPORT_SENDER*");
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

        act.Should().Throw<ConfigurationException>().WithMessage("PRICE_TABLE: *sesEmail*");
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

        act.Should().Throw<ConfigurationException>().WithMessage("PRICE_TABLE: 's3://archive/' is not s3://bucket/key");
    }

    private static DictionaryEnvironment With(string name, string value) => Valid.With(name, value);

    private static CostReportSettings Bind(DictionaryEnvironment variables) => CostReportSettings.FromEnvironment(variables);
}
