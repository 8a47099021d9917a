using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Core.Usage;

/// <summary>
/// Source-generated (trim/AOT safe) JSON for usage records: snake_case on one line, the names
/// the Athena <c>usage</c> table (athena/tables/usage.sql) reads.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UseStringEnumConverter = true,
    MaxDepth = 8)]
[JsonSerializable(typeof(UsageRecord))]
[JsonSerializable(typeof(DailyRollup))]
public sealed partial class UsageJsonContext : JsonSerializerContext;

/// <summary>Reads and writes <see cref="UsageRecord"/> files.</summary>
public static class UsageJson
{
    /// <summary>A usage file is small; anything larger is not one of ours.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    public static byte[] Serialize(UsageRecord record) =>
        JsonSerializer.SerializeToUtf8Bytes(record, UsageJsonContext.Default.UsageRecord);

    /// <summary>Null when the bytes are not a usage record (malformed, oversize or missing fields).</summary>
    public static UsageRecord? TryDeserialize(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxFileBytes)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(utf8, UsageJsonContext.Default.UsageRecord);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
