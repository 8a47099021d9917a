using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Cli.Output;

/// <summary>Plain JSON values, reflection-free.</summary>
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
