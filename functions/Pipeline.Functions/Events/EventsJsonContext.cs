using System.Text.Json.Serialization;

namespace Pipeline.Functions.Events;

/// <summary>Source-generated (reflection-free) serialization of the event models.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(KinesisEvent))]
[JsonSerializable(typeof(KinesisBatchResponse))]
[JsonSerializable(typeof(ScheduledEvent))]
public sealed partial class EventsJsonContext : JsonSerializerContext;
