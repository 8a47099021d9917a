using System.Text;
using Pipeline.Core.Segments;

namespace Pipeline.Core.Sampling;

/// <summary>
/// Decides which segments go to X-Ray (every valid segment is archived regardless).
/// Order: tail policies (error, fault, throttle, HTTP 5xx/429, slow) keep; else a remembered keep
/// from the decision store; else the first matching head rule: keep when the trace-id hash is
/// below its fixed rate (the same answer on any machine), else take from its per-second reservoir,
/// else drop. Rules with different rates nest: a trace kept at rate r is kept by every rule with a
/// rate ≥ r, so segments of one trace disagree only when their services match rules of different
/// rates; <see cref="DecideBatch"/> then unifies a batch per trace (keep wins) and reports what to remember.
/// </summary>
public sealed class TraceSampler
{
    private const int MaxUrlBytes = 8 * 1024;

    private readonly CompiledRule[] _rules;
    private readonly ReservoirState _reservoir;

    public TraceSampler(SamplingPolicy policy, ReservoirState? reservoir = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        Policy = policy;
        _reservoir = reservoir ?? new ReservoirState();
        _rules = [.. policy.Rules
            .OrderBy(r => r.Priority)
            .ThenBy(r => r.RuleName, StringComparer.Ordinal)
            .Select(r => new CompiledRule(r))];
    }

    public SamplingPolicy Policy { get; }

    /// <summary>Decision for one segment. <paramref name="remembered"/> comes from the decision store.</summary>
    public SamplingDecision Decide(ParsedSegment segment, TraceDecision? remembered, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var tail = TailReason(segment, Policy.Tail);
        if (tail != SamplingReason.None)
        {
            return new SamplingDecision(true, tail);
        }

        if (remembered is { Keep: true })
        {
            return new SamplingDecision(true, SamplingReason.Remembered);
        }

        return DecideHead(segment, now);
    }

    /// <summary>
    /// Head decision only: the matched rule's fixed rate against the trace-id hash, then its
    /// reservoir for the second of <paramref name="now"/>.
    /// </summary>
    public SamplingDecision DecideHead(ParsedSegment segment, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var rule = Match(segment);
        if (rule is null)
        {
            return new SamplingDecision(false, SamplingReason.NoMatchingRule);
        }

        if (TraceHash.Unit(segment.TraceId) < rule.FixedRate)
        {
            return new SamplingDecision(true, SamplingReason.Head, rule.RuleName);
        }

        return _reservoir.TryTake(rule, now)
            ? new SamplingDecision(true, SamplingReason.HeadReservoir, rule.RuleName)
            : new SamplingDecision(false, SamplingReason.Dropped, rule.RuleName);
    }

    /// <summary>
    /// Decisions for a batch, aligned with <paramref name="segments"/>. Per trace: any tail reason in
    /// the batch keeps all its segments; a remembered keep keeps them; otherwise the trace's first
    /// segment's head decision applies to all (one reservoir slot per trace, not per segment).
    /// <paramref name="toRemember"/> receives the new keeps that a later batch could not recompute.
    /// </summary>
    public SamplingDecision[] DecideBatch(
        IReadOnlyList<ParsedSegment> segments,
        IReadOnlyDictionary<string, TraceDecision> remembered,
        DateTimeOffset now,
        out IReadOnlyDictionary<string, TraceDecision> toRemember)
    {
        ArgumentNullException.ThrowIfNull(segments);
        ArgumentNullException.ThrowIfNull(remembered);
        var keys = new string[segments.Count];
        var perTrace = new Dictionary<string, SamplingDecision>(StringComparer.Ordinal);
        for (var i = 0; i < segments.Count; i++)
        {
            keys[i] = segments[i].TraceIdKey();
            var tail = TailReason(segments[i], Policy.Tail);
            if (tail != SamplingReason.None && !(perTrace.TryGetValue(keys[i], out var existing) && existing.Keep))
            {
                perTrace[keys[i]] = new SamplingDecision(true, tail);
            }
        }

        var decisions = new SamplingDecision[segments.Count];
        var remember = new Dictionary<string, TraceDecision>(StringComparer.Ordinal);
        for (var i = 0; i < segments.Count; i++)
        {
            var key = keys[i];
            if (!perTrace.TryGetValue(key, out var decision))
            {
                decision = remembered.TryGetValue(key, out var prior) && prior.Keep
                    ? new SamplingDecision(true, SamplingReason.Remembered)
                    : DecideHead(segments[i], now);
                perTrace[key] = decision;
            }

            decisions[i] = decision;
            if (decision.ShouldRemember && !(remembered.TryGetValue(key, out var known) && known.Keep))
            {
                remember[key] = new TraceDecision(true, decision.Reason, now);
            }
        }

        toRemember = remember;
        return decisions;
    }

    /// <summary>The tail reason that keeps this document's trace, or <see cref="SamplingReason.None"/>.</summary>
    public static SamplingReason TailReason(ParsedSegment segment, TailPolicy tail)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(tail);
        var reason = SamplingReason.None;
        foreach (ref readonly var node in segment.Nodes)
        {
            var candidate =
                tail.KeepFaults && node.HasFault ? SamplingReason.TailFault :
                tail.KeepErrors && node.HasError ? SamplingReason.TailError :
                tail.KeepThrottles && node.HasThrottle ? SamplingReason.TailThrottle :
                tail.KeepHttpFailures && (node.Http.Status >= 500 || node.Http.Status == 429) ? SamplingReason.TailHttpStatus :
                SamplingReason.None;

            // Fault outranks error outranks throttle outranks status: report the most severe.
            if (candidate != SamplingReason.None && (reason == SamplingReason.None || Severity(candidate) > Severity(reason)))
            {
                reason = candidate;
            }
        }

        if (reason == SamplingReason.None && tail.SlowThreshold is { } threshold && segment.Root.Duration > threshold.TotalSeconds)
        {
            reason = SamplingReason.TailSlow;
        }

        return reason;
    }

    /// <summary>The first rule (by priority, then name) whose globs match the root entity.</summary>
    public SamplingRule? Match(ParsedSegment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ref readonly var root = ref segment.Root;
        var url = segment.GetUtf8(root.Http.Url);
        if (url.Length > MaxUrlBytes)
        {
            url = url[..MaxUrlBytes];
        }

        SplitUrl(url, out var host, out var path);
        foreach (var rule in _rules)
        {
            if (rule.Matches(segment.GetUtf8(root.Name), segment.GetUtf8(root.Origin), host, segment.GetUtf8(root.Http.Method), path, segment.GetUtf8(root.ResourceArn)))
            {
                return rule.Rule;
            }
        }

        return null;
    }

    /// <summary>Host (without port or user info) and path (without query or fragment) of an absolute or relative URL.</summary>
    internal static void SplitUrl(ReadOnlySpan<byte> url, out ReadOnlySpan<byte> host, out ReadOnlySpan<byte> path)
    {
        host = default;
        var rest = url;
        var scheme = url.IndexOf("://"u8);
        if (scheme >= 0)
        {
            rest = url[(scheme + 3)..];
            var end = rest.IndexOfAny("/?#"u8);
            var authority = end < 0 ? rest : rest[..end];
            rest = end < 0 ? default : rest[end..];
            var at = authority.LastIndexOf((byte)'@');
            if (at >= 0)
            {
                authority = authority[(at + 1)..];
            }

            var colon = authority.LastIndexOf((byte)':');
            host = colon >= 0 && authority.IndexOf((byte)']') < colon ? authority[..colon] : authority;
        }

        var stop = rest.IndexOfAny("?#"u8);
        path = stop < 0 ? rest : rest[..stop];
        if (path.IsEmpty)
        {
            path = "/"u8;
        }
    }

    private static int Severity(SamplingReason reason) => reason switch
    {
        SamplingReason.TailFault => 4,
        SamplingReason.TailError => 3,
        SamplingReason.TailThrottle => 2,
        SamplingReason.TailHttpStatus => 1,
        _ => 0,
    };

    private sealed class CompiledRule(SamplingRule rule)
    {
        private readonly byte[] _serviceName = Encoding.UTF8.GetBytes(rule.ServiceName);
        private readonly byte[] _serviceType = Encoding.UTF8.GetBytes(rule.ServiceType);
        private readonly byte[] _host = Encoding.UTF8.GetBytes(rule.Host);
        private readonly byte[] _httpMethod = Encoding.UTF8.GetBytes(rule.HttpMethod);
        private readonly byte[] _urlPath = Encoding.UTF8.GetBytes(rule.UrlPath);
        private readonly byte[] _resourceArn = Encoding.UTF8.GetBytes(rule.ResourceArn);

        public SamplingRule Rule { get; } = rule;

        public bool Matches(ReadOnlySpan<byte> name, ReadOnlySpan<byte> origin, ReadOnlySpan<byte> host, ReadOnlySpan<byte> method, ReadOnlySpan<byte> path, ReadOnlySpan<byte> resourceArn) =>
            Glob.IsMatch(_serviceName, name)
            && Glob.IsMatch(_serviceType, origin)
            && Glob.IsMatch(_host, host)
            && Glob.IsMatch(_httpMethod, method)
            && Glob.IsMatch(_urlPath, path)
            && Glob.IsMatch(_resourceArn, resourceArn);
    }
}
