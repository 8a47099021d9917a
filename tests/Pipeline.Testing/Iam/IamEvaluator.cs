namespace Pipeline.Testing.Iam;

/// <summary>
/// What one AWS call asks IAM: the action (<c>s3:GetObject</c>), the resource ARN and the request
/// context (condition keys such as <c>s3:prefix</c>, <c>aws:SecureTransport</c>).
/// </summary>
public sealed record IamRequest(string Action, string Resource, IReadOnlyDictionary<string, string> Context)
{
    public IamRequest(string action, string resource)
        : this(action, resource, new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase))
    {
    }

    public override string ToString() =>
        Context.Count == 0 ? $"{Action} on {Resource}" : $"{Action} on {Resource} with {string.Join(", ", Context.Select(c => $"{c.Key}={c.Value}"))}";
}

public enum IamVerdict
{
    /// <summary>At least one Allow statement applies and no Deny does.</summary>
    Allowed,

    /// <summary>A Deny statement applies.</summary>
    ExplicitDeny,

    /// <summary>No statement allows it (IAM's default).</summary>
    ImplicitDeny,
}

/// <param name="Allowing">Every Allow statement that applies, with the policy it is in.</param>
/// <param name="Denying">The Deny statement that applies, if any.</param>
public sealed record IamDecision(IamVerdict Verdict, IReadOnlyList<(IamPolicy Policy, IamStatement Statement)> Allowing, (IamPolicy Policy, IamStatement Statement)? Denying)
{
    public bool IsAllowed => Verdict == IamVerdict.Allowed;
}

/// <summary>
/// The part of IAM's policy evaluation logic that one principal's identity policies need
/// (IAM user guide, "Policy evaluation logic"): an explicit Deny wins, else any Allow, else the
/// implicit deny. Matching follows the IAM JSON policy reference:
/// <list type="bullet">
/// <item>Action: case-insensitive, <c>*</c> and <c>?</c> wildcards; NotAction.</item>
/// <item>Resource: case-sensitive, <c>*</c> (any run of characters, <c>/</c> included) and <c>?</c>; NotResource.</item>
/// <item>Condition: every operator and every key of a statement must hold (AND), any listed value
/// may match (OR). Operators: String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals,
/// Arn(Not)Like, Bool, Null, each with an <c>IfExists</c> form. A key missing from the request makes
/// a positive operator false and a negated one (<c>...Not...</c>) true; <c>IfExists</c> makes it true.
/// Anything else (set operators, numeric and date operators, policy variables) throws: a
/// condition this evaluator does not understand must never pass silently.</item>
/// </list>
/// Resource policies, permission boundaries, SCPs and session policies are outside it (the
/// pipeline's roles use none that can allow; the bucket policies only deny insecure transport).
/// </summary>
public static class IamEvaluator
{
    public static IamDecision Evaluate(IReadOnlyList<IamPolicy> policies, IamRequest request)
    {
        ArgumentNullException.ThrowIfNull(policies);
        ArgumentNullException.ThrowIfNull(request);
        var allowing = new List<(IamPolicy, IamStatement)>();
        foreach (var policy in policies)
        {
            foreach (var statement in policy.Statements)
            {
                if (!Applies(statement, request))
                {
                    continue;
                }

                if (statement.Effect == IamEffect.Deny)
                {
                    return new IamDecision(IamVerdict.ExplicitDeny, allowing, (policy, statement));
                }

                allowing.Add((policy, statement));
            }
        }

        return new IamDecision(allowing.Count > 0 ? IamVerdict.Allowed : IamVerdict.ImplicitDeny, allowing, null);
    }

    /// <summary>Whether the statement's action, resource and conditions all match the request.</summary>
    public static bool Applies(IamStatement statement, IamRequest request)
    {
        ArgumentNullException.ThrowIfNull(statement);
        ArgumentNullException.ThrowIfNull(request);
        var action = statement.Actions.Any(a => WildcardMatch(a, request.Action, ignoreCase: true));
        var resource = statement.Resources.Any(r => WildcardMatch(r, request.Resource, ignoreCase: false));
        return action != statement.NotAction
            && resource != statement.NotResource
            && statement.Conditions.All(c => ConditionHolds(c.Key, c.Value, request.Context));
    }

    /// <summary>IAM's wildcard match: <c>*</c> any run of characters, <c>?</c> exactly one.</summary>
    public static bool WildcardMatch(string pattern, string value, bool ignoreCase)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(value);
        if (pattern.Contains("${", StringComparison.Ordinal))
        {
            throw new NotSupportedException($"policy variables are not evaluated here: '{pattern}'");
        }

        // Iterative glob match with backtracking to the last '*'.
        int p = 0, v = 0, star = -1, resume = 0;
        while (v < value.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || Same(pattern[p], value[v], ignoreCase)))
            {
                p++;
                v++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = v;
            }
            else if (star >= 0)
            {
                p = star + 1;
                v = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    private static bool Same(char a, char b, bool ignoreCase) =>
        a == b || (ignoreCase && char.ToLowerInvariant(a) == char.ToLowerInvariant(b));

    private static bool ConditionHolds(string op, IReadOnlyDictionary<string, IReadOnlyList<string>> keys, IReadOnlyDictionary<string, string> context)
    {
        if (op.Contains(':', StringComparison.Ordinal))
        {
            throw new NotSupportedException($"set operators (ForAnyValue:/ForAllValues:) are not evaluated here: '{op}'");
        }

        var ifExists = op.EndsWith("IfExists", StringComparison.Ordinal);
        var baseOp = ifExists ? op[..^"IfExists".Length] : op;
        if (!KnownOperators.Contains(baseOp))
        {
            throw new NotSupportedException($"condition operator '{op}' is not evaluated here");
        }
        foreach (var (key, values) in keys)
        {
            var present = context.TryGetValue(key, out var actual);
            bool holds;
            if (baseOp == "Null")
            {
                // Null: "true" means the key must be absent, "false" that it must be present.
                holds = values.Any(v => string.Equals(v, "true", StringComparison.OrdinalIgnoreCase) ? !present : present);
            }
            else if (!present)
            {
                holds = ifExists || IsNegated(baseOp);
            }
            else
            {
                holds = IsNegated(baseOp)
                    ? values.All(v => !Matches(Positive(baseOp), v, actual!))
                    : values.Any(v => Matches(baseOp, v, actual!));
            }

            if (!holds)
            {
                return false;
            }
        }

        return true;
    }

    private static readonly HashSet<string> KnownOperators = new(StringComparer.Ordinal)
    {
        "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
        "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Bool", "Null",
    };

    private static bool IsNegated(string op) => op.Contains("Not", StringComparison.Ordinal);

    private static string Positive(string op) => op.Replace("Not", string.Empty, StringComparison.Ordinal);

    private static bool Matches(string op, string expected, string actual) => op switch
    {
        "StringEquals" or "ArnEquals" => string.Equals(expected, actual, StringComparison.Ordinal),
        "StringEqualsIgnoreCase" => string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase),
        "StringLike" or "ArnLike" => WildcardMatch(expected, actual, ignoreCase: false),
        "Bool" => string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase),
        _ => throw new NotSupportedException($"condition operator '{op}' is not evaluated here"),
    };
}
