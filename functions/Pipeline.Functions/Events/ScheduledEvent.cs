using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Functions.Events;

/// <summary>
/// The event an EventBridge schedule rule sends (service-graph, cost-report, xray-replay).
/// Source: Amazon EventBridge user guide, "Creating a rule that runs on a schedule" (example event).
/// </summary>
public sealed record ScheduledEvent
{
    /// <summary><c>Scheduled Event</c> for schedule rules.</summary>
    public const string ScheduledDetailType = "Scheduled Event";

    /// <summary><c>aws.events</c> for schedule rules.</summary>
    public const string EventsSource = "aws.events";

    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("detail-type")]
    public required string DetailType { get; init; }

    [JsonPropertyName("source")]
    public required string Source { get; init; }

    /// <summary>The scheduled time (not the delivery time): use it to pick the window to process.</summary>
    [JsonPropertyName("time")]
    public required DateTimeOffset Time { get; init; }

    [JsonPropertyName("version")]
    public string? Version { get; init; }

    [JsonPropertyName("account")]
    public string? Account { get; init; }

    [JsonPropertyName("region")]
    public string? Region { get; init; }

    /// <summary>The rule ARN(s) that fired.</summary>
    [JsonPropertyName("resources")]
    public IReadOnlyList<string> Resources { get; init; } = [];

    /// <summary><c>{}</c> for schedules; a rule's constant input may put options here.</summary>
    [JsonPropertyName("detail")]
    public JsonElement? Detail { get; init; }
}
