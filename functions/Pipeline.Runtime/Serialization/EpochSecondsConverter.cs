using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Runtime.Serialization;

/// <summary>
/// Epoch seconds with an optional fraction (<c>1545084650.987</c>) as a DateTimeOffset: the one
/// rule for every timestamp we read that way — Kinesis' <c>approximateArrivalTimestamp</c> (which
/// decides the archive's <c>dt=/hour=</c> key) and the AWS JSON protocols' epoch-seconds members.
/// The value is read as a decimal (no binary rounding) and rounded half away from zero to the
/// millisecond, so <c>…59.9995</c> is the next second everywhere. An ISO 8601 string is accepted
/// too (some endpoints, and moto, answer that way).
/// </summary>
public sealed class EpochSecondsConverter : JsonConverter<DateTimeOffset>
{
    private const decimal MillisecondsPerSecond = 1000m;

    public static DateTimeOffset FromSeconds(decimal seconds)
    {
        var milliseconds = decimal.Round(seconds * MillisecondsPerSecond, MidpointRounding.AwayFromZero);
        if (milliseconds < DateTimeOffset.MinValue.ToUnixTimeMilliseconds() || milliseconds > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw new JsonException($"Epoch seconds {seconds.ToString(CultureInfo.InvariantCulture)} are out of range.");
        }

        return DateTimeOffset.FromUnixTimeMilliseconds((long)milliseconds);
    }

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number when reader.TryGetDecimal(out var seconds):
                return FromSeconds(seconds);
            case JsonTokenType.String when DateTimeOffset.TryParse(reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed):
                return parsed;
            default:
                throw new JsonException($"Expected epoch seconds as a JSON number (or an ISO 8601 string), got {reader.TokenType}.");
        }
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteNumberValue(value.ToUnixTimeMilliseconds() / MillisecondsPerSecond);
    }
}

/// <summary><see cref="EpochSecondsConverter"/> for optional members (JSON null is null).</summary>
public sealed class NullableEpochSecondsConverter : JsonConverter<DateTimeOffset?>
{
    private static readonly EpochSecondsConverter Inner = new();

    public override bool HandleNull => true;

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? null : Inner.Read(ref reader, typeof(DateTimeOffset), options);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is { } v)
        {
            Inner.Write(writer, v, options);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
