using System.Text.Json.Nodes;

namespace Pipeline.Testing.Iam;

/// <summary>
/// An IAM policy document as the least-privilege tests evaluate it: statements with
/// Effect, Action/NotAction, Resource/NotResource and Condition. Parsed from the JSON IAM stores
/// (the rehearsal stack's roles as moto's IAM returns them, with every intrinsic resolved).
/// </summary>
/// <param name="Name">Where it came from, for messages (role and policy name).</param>
public sealed record IamPolicy(string Name, IReadOnlyList<IamStatement> Statements)
{
    public static IamPolicy Parse(string name, JsonNode document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var statements = document["Statement"] switch
        {
            JsonArray list => list.Select((s, i) => IamStatement.Parse(s!.AsObject(), i)).ToList(),
            JsonObject single => [IamStatement.Parse(single, 0)],
            _ => throw new FormatException($"{name}: a policy has a Statement object or list"),
        };
        return new IamPolicy(name, statements);
    }

    public static IamPolicy Parse(string name, string json) =>
        Parse(name, JsonNode.Parse(json) ?? throw new FormatException($"{name}: empty policy document"));
}

public enum IamEffect
{
    Allow,
    Deny,
}

/// <param name="Sid">The statement's Sid, or <c>#index</c> when it has none.</param>
/// <param name="Conditions">Operator (e.g. <c>StringLike</c>) → condition key → values.</param>
public sealed record IamStatement(
    string Sid,
    IamEffect Effect,
    IReadOnlyList<string> Actions,
    bool NotAction,
    IReadOnlyList<string> Resources,
    bool NotResource,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>> Conditions)
{
    public static IamStatement Parse(JsonObject statement, int index)
    {
        ArgumentNullException.ThrowIfNull(statement);
        var sid = (string?)statement[nameof(Sid)] is { Length: > 0 } s ? s : "#" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var effect = (string?)statement[nameof(Effect)] switch
        {
            "Allow" => IamEffect.Allow,
            "Deny" => IamEffect.Deny,
            var other => throw new FormatException($"statement {sid}: Effect is Allow or Deny, got '{other}'"),
        };
        if (statement.ContainsKey("Principal") || statement.ContainsKey("NotPrincipal"))
        {
            throw new NotSupportedException($"statement {sid}: resource policies (Principal) are not evaluated here");
        }

        var (actions, notAction) = Either(statement, "Action", "NotAction", sid);
        var (resources, notResource) = Either(statement, "Resource", "NotResource", sid);
        var conditions = new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>>(StringComparer.Ordinal);
        if (statement["Condition"] is JsonObject condition)
        {
            foreach (var (op, keys) in condition)
            {
                var byKey = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
                foreach (var (key, values) in keys!.AsObject())
                {
                    byKey[key] = Strings(values, $"statement {sid} condition {op} {key}");
                }

                conditions[op] = byKey;
            }
        }

        return new IamStatement(sid, effect, actions, notAction, resources, notResource, conditions);
    }

    private static (IReadOnlyList<string> Values, bool Negated) Either(JsonObject statement, string positive, string negative, string sid)
    {
        var hasPositive = statement.ContainsKey(positive);
        if (hasPositive == statement.ContainsKey(negative))
        {
            throw new FormatException($"statement {sid}: exactly one of {positive} and {negative}");
        }

        return hasPositive
            ? (Strings(statement[positive], $"statement {sid} {positive}"), false)
            : (Strings(statement[negative], $"statement {sid} {negative}"), true);
    }

    private static IReadOnlyList<string> Strings(JsonNode? node, string what) => node switch
    {
        JsonValue v => [ValueText(v, what)],
        JsonArray a when a.Count > 0 => [.. a.Select(x => x is JsonValue xv ? ValueText(xv, what) : throw new FormatException($"{what}: strings only"))],
        _ => throw new FormatException($"{what}: a string or a non-empty list of strings"),
    };

    // Bool conditions may be written as JSON booleans; IAM compares their text.
    private static string ValueText(JsonValue value, string what) =>
        value.TryGetValue<string>(out var s) ? s
        : value.TryGetValue<bool>(out var b) ? (b ? "true" : "false")
        : throw new FormatException($"{what}: strings only");
}
