using System.Globalization;
using System.Text.Json;
using Pipeline.Aws.Http;
using Pipeline.Aws.XRay;

namespace Relay.Sampling;

/// <summary>
/// <c>--sdk-sampling proxy</c>: turns the SDK's unsigned rest-json call into a signed call of the
/// project's X-Ray client and writes X-Ray's answer back in the same wire shape (epoch-second
/// timestamps). X-Ray's own errors are passed through with their status.
/// </summary>
public sealed class XRaySamplingUpstream(IXRayClient xray) : ISamplingUpstream
{
    public async Task<(int Status, byte[] Body)> ForwardAsync(string path, byte[] body, CancellationToken cancellationToken)
    {
        try
        {
            return path switch
            {
                SamplingResponder.RulesPath => (200, WriteRules(await xray.GetSamplingRulesAsync(ReadNextToken(body), cancellationToken).ConfigureAwait(false))),
                SamplingResponder.TargetsPath => (200, WriteTargets(await xray.GetSamplingTargetsAsync(ReadStatistics(body), cancellationToken).ConfigureAwait(false))),
                _ => (404, JsonSerializerSafe.Message("not a sampling call")),
            };
        }
        catch (JsonException e)
        {
            return (400, JsonSerializerSafe.Message("bad request body: " + e.Message));
        }
        catch (AwsServiceException e)
        {
            return ((int)e.StatusCode, JsonSerializerSafe.Message($"{e.ErrorCode}: {e.ServiceMessage}"));
        }
    }

    private static string? ReadNextToken(byte[] body)
    {
        if (body.Length == 0)
        {
            return null;
        }

        using var document = JsonDocument.Parse(body);
        return document.RootElement.ValueKind == JsonValueKind.Object
            && document.RootElement.TryGetProperty("NextToken", out var token)
            && token.ValueKind == JsonValueKind.String ? token.GetString() : null;
    }

    private static List<SamplingStatistics> ReadStatistics(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        var statistics = new List<SamplingStatistics>();
        if (document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("SamplingStatisticsDocuments", out var docs)
            || docs.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("SamplingStatisticsDocuments is required");
        }

        foreach (var doc in docs.EnumerateArray())
        {
            statistics.Add(new SamplingStatistics(
                doc.GetProperty("RuleName").GetString() ?? "",
                doc.GetProperty("ClientID").GetString() ?? "",
                DateTimeOffset.FromUnixTimeMilliseconds((long)(doc.GetProperty("Timestamp").GetDouble() * 1000)),
                doc.GetProperty("RequestCount").GetInt32(),
                doc.GetProperty("SampledCount").GetInt32(),
                doc.GetProperty("BorrowCount").GetInt32()));
        }

        return statistics;
    }

    private static byte[] WriteRules(SamplingRulesPage page)
    {
        using var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteStartArray("SamplingRuleRecords");
            foreach (var record in page.SamplingRuleRecords)
            {
                var rule = record.SamplingRule;
                json.WriteStartObject();
                json.WriteStartObject("SamplingRule");
                WriteOptional(json, "RuleName", rule.RuleName);
                WriteOptional(json, "RuleARN", rule.RuleARN);
                json.WriteString("ResourceARN", rule.ResourceARN);
                json.WriteNumber("Priority", rule.Priority);
                json.WriteNumber("FixedRate", rule.FixedRate);
                json.WriteNumber("ReservoirSize", rule.ReservoirSize);
                json.WriteString("ServiceName", rule.ServiceName);
                json.WriteString("ServiceType", rule.ServiceType);
                json.WriteString("Host", rule.Host);
                json.WriteString("HTTPMethod", rule.HTTPMethod);
                json.WriteString("URLPath", rule.URLPath);
                json.WriteNumber("Version", rule.Version);
                if (rule.Attributes is { Count: > 0 } attributes)
                {
                    json.WriteStartObject("Attributes");
                    foreach (var (key, value) in attributes)
                    {
                        json.WriteString(key, value);
                    }

                    json.WriteEndObject();
                }

                json.WriteEndObject();
                WriteEpoch(json, "CreatedAt", record.CreatedAt);
                WriteEpoch(json, "ModifiedAt", record.ModifiedAt);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            WriteOptional(json, "NextToken", page.NextToken);
            json.WriteEndObject();
        }

        return output.ToArray();
    }

    private static byte[] WriteTargets(SamplingTargetsResult result)
    {
        using var output = new MemoryStream();
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteStartArray("SamplingTargetDocuments");
            foreach (var target in result.SamplingTargetDocuments)
            {
                json.WriteStartObject();
                json.WriteString("RuleName", target.RuleName);
                if (target.FixedRate is { } rate)
                {
                    json.WriteNumber("FixedRate", rate);
                }

                if (target.ReservoirQuota is { } quota)
                {
                    json.WriteNumber("ReservoirQuota", quota);
                }

                WriteEpoch(json, "ReservoirQuotaTTL", target.ReservoirQuotaTTL);
                if (target.Interval is { } interval)
                {
                    json.WriteNumber("Interval", interval);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            WriteEpoch(json, "LastRuleModification", result.LastRuleModification);
            json.WriteStartArray("UnprocessedStatistics");
            foreach (var unprocessed in result.UnprocessedStatistics)
            {
                json.WriteStartObject();
                WriteOptional(json, "RuleName", unprocessed.RuleName);
                WriteOptional(json, "ErrorCode", unprocessed.ErrorCode);
                WriteOptional(json, "Message", unprocessed.Message);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return output.ToArray();
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteEpoch(Utf8JsonWriter json, string name, DateTimeOffset? value)
    {
        if (value is { } time)
        {
            json.WriteNumber(name, Math.Round(time.ToUnixTimeMilliseconds() / 1000.0, 3));
        }
    }

}
