using System.Globalization;
using System.Xml.Linq;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Http;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Aws.CloudWatch;

/// <summary>
/// Amazon CloudWatch over the query protocol (<see cref="AwsQueryProtocol"/>), signed as
/// "monitoring" through the shared <see cref="AwsHttpClient"/>.
/// </summary>
internal sealed class CloudWatchClient : ICloudWatchClient
{
    public const string ApiVersion = "2010-08-01";

    /// <summary>DescribeAlarms takes at most 100 AlarmNames (CloudWatch API reference).</summary>
    public const int MaxNamesPerCall = 100;

    /// <summary>Pages read per call at most: with names given, one page holds every match.</summary>
    public const int MaxPages = 10;

    private readonly AwsHttpClient _http;

    public CloudWatchClient(AwsHttpClient http) => _http = http;

    public async Task<IReadOnlyList<AlarmDescription>> DescribeAlarmsAsync(IReadOnlyCollection<string> alarmNames, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alarmNames);
        var alarms = new List<AlarmDescription>();
        foreach (var chunk in alarmNames.Distinct(StringComparer.Ordinal).Chunk(MaxNamesPerCall))
        {
            string? token = null;
            var page = 0;
            do
            {
                if (++page > MaxPages)
                {
                    throw new InvalidDataException($"CloudWatch DescribeAlarms had more than {MaxPages} pages for {chunk.Length} names.");
                }

                var parameters = new List<(string, string)> { ("MaxRecords", MaxNamesPerCall.ToString(CultureInfo.InvariantCulture)) };
                parameters.AddRange(chunk.Select((name, i) => (string.Create(CultureInfo.InvariantCulture, $"AlarmNames.member.{i + 1}"), name)));
                parameters.Add(("AlarmTypes.member.1", "MetricAlarm"));
                parameters.Add(("AlarmTypes.member.2", "CompositeAlarm"));
                if (token is not null)
                {
                    parameters.Add(("NextToken", token));
                }

                var result = await AwsQueryProtocol.CallAsync(_http, AwsService.CloudWatch, ApiVersion, "DescribeAlarms", parameters, cancellationToken).ConfigureAwait(false);
                alarms.AddRange(Alarms(result, "MetricAlarms"));
                alarms.AddRange(Alarms(result, "CompositeAlarms"));
                token = AwsQueryProtocol.Text(result, "NextToken");
            }
            while (!string.IsNullOrEmpty(token));
        }

        return alarms;
    }

    private static IEnumerable<AlarmDescription> Alarms(XElement result, string list) =>
        AwsQueryProtocol.Members(AwsQueryProtocol.Child(result, list)).Select(member => new AlarmDescription(
            AwsQueryProtocol.Text(member, "AlarmName") ?? string.Empty,
            string.Equals(AwsQueryProtocol.Text(member, "ActionsEnabled"), "true", StringComparison.OrdinalIgnoreCase),
            AwsQueryProtocol.Text(member, "StateValue") ?? string.Empty,
            [.. AwsQueryProtocol.Members(AwsQueryProtocol.Child(member, "AlarmActions")).Select(a => a.Value)]));
}

/// <summary>Builds the CloudWatch client from the shared settings (the composition root's entry point).</summary>
public static class CloudWatchClientFactory
{
    /// <param name="httpClient">The executable's one pooled HttpClient (not disposed here).</param>
    public static ICloudWatchClient Create(AwsSettings settings, HttpClient httpClient, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var sender = new AwsHttpClient(httpClient, settings, AwsHttpClient.CredentialsFor(settings), timeProvider ?? TimeProvider.System, new Backoff(settings.Retry));
        return new CloudWatchClient(sender);
    }
}
