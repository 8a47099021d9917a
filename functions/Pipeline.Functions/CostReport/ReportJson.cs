using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Functions.CostReport;

/// <summary>The machine-readable copy (<c>report.json</c>): the model with exact decimal amounts.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    WriteIndented = true,
    MaxDepth = 16)]
[JsonSerializable(typeof(CostReportModel))]
internal sealed partial class CostReportJsonContext : JsonSerializerContext;

public static class ReportJson
{
    public static byte[] Serialize(CostReportModel model) =>
        JsonSerializer.SerializeToUtf8Bytes(model, CostReportJsonContext.Default.CostReportModel);

    public static CostReportModel? Deserialize(ReadOnlySpan<byte> utf8) =>
        JsonSerializer.Deserialize(utf8, CostReportJsonContext.Default.CostReportModel);
}
