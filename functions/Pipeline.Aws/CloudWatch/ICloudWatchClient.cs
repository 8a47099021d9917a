namespace Pipeline.Aws.CloudWatch;

/// <summary>
/// The Amazon CloudWatch call <c>pipeline verify</c> makes (query protocol, API version
/// 2010-08-01): DescribeAlarms by name. AWSSDK.CloudWatch is not served here, so this is our own
/// small client; the interface is shaped so the official package could replace it.
/// </summary>
public interface ICloudWatchClient
{
    /// <summary>The metric and composite alarms of these names that exist (any number of names; asked 100 at a time).</summary>
    Task<IReadOnlyList<AlarmDescription>> DescribeAlarmsAsync(IReadOnlyCollection<string> alarmNames, CancellationToken cancellationToken = default);
}

/// <param name="ActionsEnabled">Whether a state change runs the alarm's actions (notifies the topic).</param>
/// <param name="StateValue">OK, ALARM or INSUFFICIENT_DATA.</param>
public sealed record AlarmDescription(string AlarmName, bool ActionsEnabled, string StateValue, IReadOnlyList<string> AlarmActions);
