using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Functions.Events;

/// <summary>Epoch seconds with an optional fraction (e.g. <c>1545084650.987</c>) as a DateTimeOffset, millisecond precision.</summary>
public sealed class EpochSecondsConverter : JsonConverter<DateTimeOffset>
{
    private const decimal MillisecondsPerSecond = 1000m;

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDecimal(out var seconds))
        {
            throw new JsonException("Expected epoch seconds as a JSON number.");
        }

        var milliseconds = decimal.Round(seconds * MillisecondsPerSecond, MidpointRounding.AwayFromZero);
        if (milliseconds < DateTimeOffset.MinValue.ToUnixTimeMilliseconds() || milliseconds > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw new JsonException($"Epoch seconds {seconds} are out of range.");
        }

        return DateTimeOffset.FromUnixTimeMilliseconds((long)milliseconds);
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteNumberValue(value.ToUnixTimeMilliseconds() / MillisecondsPerSecond);
    }
}
