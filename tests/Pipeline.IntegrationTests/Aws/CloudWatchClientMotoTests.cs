using Pipeline.Aws.CloudWatch;
using Pipeline.IntegrationTests.Deploy;
using Pipeline.Testing;

namespace Pipeline.IntegrationTests.Aws;

/// <summary>The CloudWatch DescribeAlarms client (query protocol) against alarms moto really holds (PutMetricAlarm; CloudFormation skips them).</summary>
public sealed class CloudWatchClientMotoTests(MotoFixture moto)
{
    [Fact]
    public async Task DescribeAlarms_ByName_ReadsActionsEnabledAndStateAndLeavesOutUnknownNames()
    {
        var ct = TestContext.Current.CancellationToken;
        var enabled = MotoFixture.UniqueName("alarm-on");
        var disabled = MotoFixture.UniqueName("alarm-off");
        await RehearsedStackAws.PutMetricAlarmAsync(moto.Endpoint, enabled, actionsEnabled: true, ct);
        await RehearsedStackAws.PutMetricAlarmAsync(moto.Endpoint, disabled, actionsEnabled: false, ct);
        var client = CloudWatchClientFactory.Create(MotoAws.Settings(moto), MotoAws.Http);

        var alarms = await client.DescribeAlarmsAsync([enabled, disabled, MotoFixture.UniqueName("alarm-none")], ct);

        alarms.Select(a => a.AlarmName).Should().BeEquivalentTo([enabled, disabled]);
        alarms.Single(a => a.AlarmName == enabled).ActionsEnabled.Should().BeTrue();
        alarms.Single(a => a.AlarmName == disabled).ActionsEnabled.Should().BeFalse();
        alarms.Should().OnlyContain(a => a.StateValue.Length > 0 && a.AlarmActions.SequenceEqual(new[] { "arn:aws:sns:us-east-1:123456789012:alarms" }));
    }

    [Fact]
    public async Task DescribeAlarms_MoreNamesThanOneCallTakes_AsksInChunks()
    {
        var ct = TestContext.Current.CancellationToken;
        var names = Enumerable.Range(0, 101).Select(i => MotoFixture.UniqueName($"alarm-{i}")).ToList();
        await RehearsedStackAws.PutMetricAlarmAsync(moto.Endpoint, names[^1], actionsEnabled: true, ct);
        var client = CloudWatchClientFactory.Create(MotoAws.Settings(moto), MotoAws.Http);

        var alarms = await client.DescribeAlarmsAsync(names, ct);

        alarms.Should().ContainSingle().Which.AlarmName.Should().Be(names[^1], "the 101st name goes in a second call");
    }
}
