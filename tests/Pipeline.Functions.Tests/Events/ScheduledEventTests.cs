using System.Text.Json;
using Pipeline.Functions.Events;

namespace Pipeline.Functions.Tests.Events;

public sealed class ScheduledEventTests
{
    [Fact]
    public void Deserialize_ScheduleRuleEvent_ReadsTimeAndRule()
    {
        const string Json = """
            {
              "version": "0",
              "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
              "detail-type": "Scheduled Event",
              "source": "aws.events",
              "account": "123456789012",
              "time": "2026-11-25T15:00:00Z",
              "region": "us-east-1",
              "resources": ["arn:aws:events:us-east-1:123456789012:rule/pipeline-service-graph"],
              "detail": {}
            }
            """;

        var evt = JsonSerializer.Deserialize(Json, EventsJsonContext.Default.ScheduledEvent)!;

        evt.DetailType.Should().Be(ScheduledEvent.ScheduledDetailType);
        evt.Source.Should().Be(ScheduledEvent.EventsSource);
        evt.Time.Should().Be(new DateTimeOffset(2026, 11, 25, 15, 0, 0, TimeSpan.Zero));
        evt.Resources.Should().Equal("arn:aws:events:us-east-1:123456789012:rule/pipeline-service-graph");
        evt.Detail!.Value.ValueKind.Should().Be(JsonValueKind.Object);
        evt.Account.Should().Be("123456789012");
    }

    [Fact]
    public void Deserialize_WithoutTime_Throws()
    {
        var parse = () => JsonSerializer.Deserialize("""{"id":"x","detail-type":"Scheduled Event","source":"aws.events"}""", EventsJsonContext.Default.ScheduledEvent);

        parse.Should().Throw<JsonException>();
    }
}
