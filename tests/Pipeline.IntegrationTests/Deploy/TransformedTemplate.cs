using System.Text.Json.Nodes;

namespace Pipeline.IntegrationTests.Deploy;

/// <summary>
/// template.yaml after the SAM transform (what CloudFormation would deploy), produced once for
/// the tests of the <see cref="SamTemplateGroup"/>.
/// </summary>
public sealed class TransformedTemplate : IAsyncLifetime
{
    public const string FunctionType = "AWS::Lambda::Function";

    private JsonObject? _template;
    private JsonObject? _athenaTemplate;

    public JsonObject Template => _template ?? throw new InvalidOperationException("not initialized");

    /// <summary>athena/template-athena.yaml as JSON (the nested stack's template).</summary>
    public JsonObject AthenaTemplate => _athenaTemplate ?? throw new InvalidOperationException("not initialized");

    public JsonObject Resources => Template[nameof(Resources)]!.AsObject();

    public async ValueTask InitializeAsync()
    {
        _template = await SamScript.TransformAsync(TestContext.Current.CancellationToken);
        _athenaTemplate = await SamScript.DecodeAsync(SamScript.AthenaTemplatePath, TestContext.Current.CancellationToken);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public JsonObject Resource(string logicalId) =>
        Resources[logicalId]?.AsObject() ?? throw new KeyNotFoundException($"no resource {logicalId} in the transformed template");

    public JsonObject Properties(string logicalId) => Resource(logicalId)["Properties"]!.AsObject();

    public IReadOnlyList<KeyValuePair<string, JsonObject>> OfType(string type) =>
        [.. Resources
            .Where(r => (string?)r.Value!["Type"] == type)
            .Select(r => KeyValuePair.Create(r.Key, r.Value!.AsObject()))];

    /// <summary>The function logical ids, keyed by their Handler (the _HANDLER value).</summary>
    public IReadOnlyDictionary<string, string> FunctionsByHandler() =>
        OfType(FunctionType).ToDictionary(f => (string)f.Value["Properties"]!["Handler"]!, f => f.Key);

    /// <summary>The role resource a function runs as (its Role is a GetAtt of a role in the template).</summary>
    public string RoleOf(string functionId)
    {
        var role = Properties(functionId)["Role"];
        Json.IsGetAtt(role, out var roleId, out var attribute).Should().BeTrue($"{functionId}'s Role should name a role of this template");
        attribute.Should().Be("Arn");
        return roleId;
    }
}

[CollectionDefinition(Name)]
public sealed class SamTemplateGroup : ICollectionFixture<TransformedTemplate>
{
    public const string Name = "SAM template";
}

/// <summary>Reading CloudFormation intrinsics in the transformed JSON.</summary>
internal static class Json
{
    public static bool IsRef(JsonNode? node, string logicalId) =>
        node is JsonObject o && o.Count == 1 && (string?)o["Ref"] == logicalId;

    public static bool IsRef(JsonNode? node, out string logicalId)
    {
        logicalId = node is JsonObject { Count: 1 } o && o["Ref"] is JsonValue v ? (string)v! : "";
        return logicalId.Length > 0;
    }

    public static bool IsGetAtt(JsonNode? node, out string logicalId, out string attribute)
    {
        logicalId = attribute = "";
        if (node is not JsonObject { Count: 1 } o || o["Fn::GetAtt"] is not JsonArray { Count: 2 } getAtt)
        {
            return false;
        }

        logicalId = (string)getAtt[0]!;
        attribute = (string)getAtt[1]!;
        return true;
    }

    public static bool IsGetAtt(JsonNode? node, string logicalId, string attribute) =>
        IsGetAtt(node, out var id, out var attr) && id == logicalId && attr == attribute;

    /// <summary>The template string of an Fn::Sub (either form), or null.</summary>
    public static string? SubText(JsonNode? node) => node is JsonObject { Count: 1 } o
        ? o["Fn::Sub"] switch
        {
            JsonValue v => (string?)v,
            JsonArray a => (string?)a[0],
            _ => null,
        }
        : null;

    /// <summary>A string or a list of strings/intrinsics as a list of nodes.</summary>
    public static IReadOnlyList<JsonNode?> List(JsonNode? node) => node is JsonArray a ? [.. a] : [node];

    /// <summary>Literal strings of a string-or-list property (intrinsics are skipped).</summary>
    public static IReadOnlyList<string> Strings(JsonNode? node) =>
        [.. List(node).OfType<JsonValue>().Select(v => (string)v!)];
}
