using System.Text.Json.Nodes;
using Pipeline.Core.Cost;
using Pipeline.IntegrationTests.Deploy;

namespace Pipeline.IntegrationTests.Cost;

/// <summary>
/// The cost model's counts of what the template creates (StackFootprint) against the transformed
/// template, so adding an alarm, a dashboard or changing a default schedule or retention fails
/// here until the cost report counts it too.
/// </summary>
[Collection(SamTemplateGroup.Name)]
public sealed class TemplateFootprintTests(TransformedTemplate template)
{
    [Fact]
    public void Alarms_StandardOnesNameOneMetricEach_AndTheRestAreMetricsInsightsQueries()
    {
        var alarms = template.OfType("AWS::CloudWatch::Alarm");
        var standard = alarms.Where(a => a.Value["Properties"]!["MetricName"] is not null).ToList();
        var queries = alarms.Where(a => a.Value["Properties"]!["Metrics"] is JsonArray).ToList();

        standard.Should().HaveCount(StackFootprint.StandardAlarmMetrics);
        standard.Should().OnlyContain(a => a.Value["Properties"]!["Period"] == null || (int)a.Value["Properties"]!["Period"]! >= 60, "high-resolution alarms are billed at another rate");
        (standard.Count + queries.Count).Should().Be(alarms.Count, "every alarm is counted or named as not priced");
        queries.Select(q => q.Key).Should().Equal(["QuarantineRateAlarm"], "docs/cost-report.md names the one alarm the report does not price");
    }

    [Fact]
    public void Dashboards_AreCounted() =>
        template.OfType("AWS::CloudWatch::Dashboard").Should().HaveCount(StackFootprint.Dashboards);

    [Fact]
    public void LogRetentionDefault_AndEveryFunctionLogsToARetainedGroup()
    {
        Default("LogRetentionDays").Should().Be(StackFootprint.DefaultLogRetentionDays.ToString(System.Globalization.CultureInfo.InvariantCulture));
        template.OfType("AWS::Logs::LogGroup").Should().HaveCount(template.OfType(TransformedTemplate.FunctionType).Count);
    }

    [Fact]
    public void DefaultSchedules_GiveTheScheduledInvocationsPerDay()
    {
        var perDay = new[] { "GraphSchedule", "ReportSchedule", "ReplaySchedule" }.Sum(p => InvocationsPerDay(Default(p)));

        perDay.Should().Be(StackFootprint.ScheduledInvocationsPerDay);
    }

    [Fact]
    public void Stream_IsEncryptedWithTheAwsManagedKey_SoOnlyKmsRequestsAreBilled()
    {
        var encryption = template.Properties("TraceStream")["StreamEncryption"]!;

        ((string?)encryption["EncryptionType"]).Should().Be("KMS");
        ((string?)encryption["KeyId"]).Should().Be("alias/aws/kinesis", "a customer managed key would add a monthly key charge the report does not count");
        template.OfType("AWS::KMS::Key").Should().BeEmpty();
    }

    [Fact]
    public void DecisionTable_IsOnDemand()
    {
        ((string?)template.Properties("DecisionTable")["BillingMode"]).Should().Be("PAY_PER_REQUEST");
        template.OfType("AWS::DynamoDB::Table").Should().ContainSingle();
        template.OfType("AWS::SQS::Queue").Should().ContainSingle("the on-failure queue is the stack's only queue");
    }

    private string Default(string parameter) =>
        template.Template["Parameters"]![parameter]!["Default"]!.ToString();

    /// <summary>rate(N unit) or a daily cron(M H * * ? *): the expressions the defaults use.</summary>
    private static int InvocationsPerDay(string expression)
    {
        if (expression.StartsWith("rate(", StringComparison.Ordinal))
        {
            var parts = expression[5..^1].Split(' ');
            var n = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            return parts[1].TrimEnd('s') switch
            {
                "minute" => 24 * 60 / n,
                "hour" => 24 / n,
                "day" => 1 / n,
                var unit => throw new InvalidOperationException($"unit {unit} in {expression}"),
            };
        }

        var fields = expression["cron(".Length..^1].Split(' ');
        fields[2..].Should().Equal(["*", "*", "?", "*"], "the default report schedule is daily");
        int.TryParse(fields[0], out _).Should().BeTrue();
        int.TryParse(fields[1], out _).Should().BeTrue();
        return 1;
    }
}
