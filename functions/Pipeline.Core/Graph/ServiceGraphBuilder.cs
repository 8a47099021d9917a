using System.Buffers.Text;
using System.Runtime.InteropServices;
using Pipeline.Core.Segments;

namespace Pipeline.Core.Graph;

/// <summary>Bounds of one <see cref="ServiceGraphBuilder"/>.</summary>
/// <param name="MaxPendingJoins">Entries the pending-join maps may hold together (calls waiting
/// for their callee segment, callee segments waiting for their call, independent subsegments
/// waiting for their owner). An entry costs about 56 bytes (×2 while the map grows), so the
/// default 1,000,000 is ≈ 56–112 MB at worst.</param>
/// <param name="MaxNodes">Distinct nodes (services and inferred); each edge between them costs ≈ 0.5–8 KB (latency buckets).</param>
public sealed record GraphBuilderOptions(int MaxPendingJoins = 1_000_000, int MaxNodes = 10_000)
{
    public static GraphBuilderOptions Default { get; } = new();
}

/// <summary>
/// Builds the service map of one time window from segment documents streamed in any order.
/// <para>Memory is per node and per edge (counts plus a <see cref="LatencySketch"/>), not per
/// segment, plus the pending joins: a call (a subsegment with namespace aws/remote, an http url
/// or a sql block) and the segment it reaches (whose <c>parent_id</c> is the call's id) may arrive in
/// either order, so whichever comes first waits in a map keyed by (trace id, id) as 24 bytes
/// until the other arrives; the edge is then counted and the entry removed. Calls that no
/// traced segment can answer (AWS services other than Lambda and the like, SQL) are counted at
/// once. What still waits at <see cref="Build"/>: an HTTP call with no segment behind it becomes an
/// edge to the inferred remote host; a segment whose call is not in the window is counted as
/// called by the client. So the maps hold at most the untraced HTTP calls of the window plus the
/// joins in flight, and never more than <see cref="GraphBuilderOptions.MaxPendingJoins"/> entries
/// (past that, a call is resolved at once to its inferred node and counted as an overflow).</para>
/// <para>A segment with origin AWS::Lambda (Lambda's service segment) is also a call: the
/// function's segment names it as parent.</para>
/// <para>Edge statistics are the caller's view (the call subsegment's duration and status); a
/// client edge is the root segment's. A document belongs to the window by its start time.</para>
/// </summary>
public sealed class ServiceGraphBuilder
{
    private readonly double _start;
    private readonly double _end;
    private readonly GraphBuilderOptions _options;
    private readonly Dictionary<(string Name, string Type), int> _nodeIds = [];
    private readonly List<NodeState> _nodes = [];
    private readonly Dictionary<(int From, int To), EdgeStatistics> _edges = [];
    private readonly Dictionary<CallKey, PendingCall> _pendingCalls = [];
    private readonly Dictionary<CallKey, PendingChild> _pendingChildren = [];
    private readonly Dictionary<CallKey, List<(CallKey Key, PendingCall Call)>> _pendingOwners = [];
    private long _pendingOwnerCalls;
    private bool[] _isCall = new bool[16];

    public ServiceGraphBuilder(DateTimeOffset windowStart, DateTimeOffset windowEnd, GraphBuilderOptions? options = null)
    {
        if (windowEnd <= windowStart)
        {
            throw new ArgumentException("The window must end after it starts.", nameof(windowEnd));
        }

        WindowStart = windowStart;
        WindowEnd = windowEnd;
        _start = windowStart.ToUnixTimeMilliseconds() / 1000.0;
        _end = windowEnd.ToUnixTimeMilliseconds() / 1000.0;
        _options = options ?? GraphBuilderOptions.Default;
        Node(CallTargets.ClientName, CallTargets.ClientType, GraphNodeKind.Client);
    }

    public DateTimeOffset WindowStart { get; }

    public DateTimeOffset WindowEnd { get; }

    public GraphBuildCounters Counters { get; } = new();

    private int Pending => _pendingCalls.Count + _pendingChildren.Count + (int)_pendingOwnerCalls;

    /// <summary>Parses one archive line and adds it; false (counted as unparseable) when it is not a segment document.</summary>
    public bool AddDocument(ReadOnlyMemory<byte> line)
    {
        var parsed = SegmentParser.Parse(line);
        if (!parsed.IsOk)
        {
            Counters.Skip(GraphSkipReason.Unparseable);
            return false;
        }

        Add(parsed.Segment);
        return true;
    }

    public void Add(ParsedSegment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ref readonly var root = ref segment.Root;
        if (root.IsInProgress)
        {
            Counters.Skip(GraphSkipReason.InProgress);
            return;
        }

        if (double.IsNaN(root.StartTime) || double.IsNaN(root.EndTime) || !TryTraceKey(segment.TraceId, out var traceHi, out var traceLo))
        {
            Counters.Skip(GraphSkipReason.MalformedEntity);
            return;
        }

        if (root.StartTime < _start || root.StartTime >= _end)
        {
            Counters.Skip(GraphSkipReason.OutsideWindow);
            return;
        }

        Counters.Documents++;
        var nodes = segment.Nodes;
        if (_isCall.Length < nodes.Length)
        {
            _isCall = new bool[Math.Max(nodes.Length, _isCall.Length * 2)];
        }

        if (segment.IsIndependentSubsegment)
        {
            AddIndependent(segment, traceHi, traceLo);
            return;
        }

        var service = Node(segment.GetString(root.Name) ?? "unknown", segment.GetString(root.Origin) ?? CallTargets.GenericServiceType, GraphNodeKind.Service);
        if (service < 0)
        {
            return;
        }

        var seconds = root.Duration;
        var outcome = Outcome(root);
        _nodes[service].Summary.Add(seconds, outcome);
        if (!root.ParentId.IsPresent || !TryId(segment.GetUtf8(root.ParentId), out var parentId))
        {
            AddEdge(0, service, seconds, outcome);
        }
        else
        {
            ArriveChild(new CallKey(traceHi, traceLo, parentId), new PendingChild(service, seconds, outcome));
        }

        // Lambda's own segment (origin AWS::Lambda) is the parent of the function's segment
        // (AWS::Lambda::Function): a segment-to-segment call, joined like a subsegment call.
        if (segment.TextEquals(root.Origin, CallTargets.LambdaServiceOriginUtf8) && TryId(segment.GetUtf8(root.Id), out var rootId))
        {
            Counters.Calls++;
            ArriveCall(new CallKey(traceHi, traceLo, rootId), new PendingCall(seconds, service, -1, outcome, MayHaveChild: true));
        }

        // Independent subsegments sent before this segment wait for any entity id of it.
        if (_pendingOwners.Count > 0)
        {
            foreach (ref readonly var node in nodes)
            {
                if (TryId(segment.GetUtf8(node.Id), out var id)
                    && _pendingOwners.Remove(new CallKey(traceHi, traceLo, id), out var waiting))
                {
                    _pendingOwnerCalls -= waiting.Count;
                    foreach (var (key, call) in waiting)
                    {
                        ArriveCall(key, call with { Caller = service });
                    }
                }
            }
        }

        CollectCalls(segment, traceHi, traceLo, service, firstIndex: 1);
    }

    /// <summary>Counts calls made by a subsegment sent on its own: its owner is the segment holding its parent id.</summary>
    private void AddIndependent(ParsedSegment segment, ulong traceHi, ulong traceLo)
    {
        ref readonly var root = ref segment.Root;
        if (!root.ParentId.IsPresent || !TryId(segment.GetUtf8(root.ParentId), out var ownerId))
        {
            Counters.Skip(GraphSkipReason.MalformedEntity);
            return;
        }

        var calls = new List<(CallKey Key, PendingCall Call)>();
        CollectCalls(segment, traceHi, traceLo, caller: -1, firstIndex: 0, calls);
        if (calls.Count == 0)
        {
            return;
        }

        if (Pending + calls.Count > _options.MaxPendingJoins)
        {
            Counters.Skip(GraphSkipReason.PendingOverflow, calls.Count);
            return;
        }

        var key = new CallKey(traceHi, traceLo, ownerId);
        if (!_pendingOwners.TryGetValue(key, out var list))
        {
            _pendingOwners[key] = list = [];
        }

        list.AddRange(calls);
        _pendingOwnerCalls += calls.Count;
        Counters.PeakPending = Math.Max(Counters.PeakPending, Pending);
    }

    /// <summary>Finds the outermost call subsegments from <paramref name="firstIndex"/> on.</summary>
    private void CollectCalls(ParsedSegment segment, ulong traceHi, ulong traceLo, int caller, int firstIndex, List<(CallKey Key, PendingCall Call)>? deferred = null)
    {
        var nodes = segment.Nodes;
        for (var i = firstIndex; i < nodes.Length; i++)
        {
            ref readonly var node = ref nodes[i];
            _isCall[i] = false;
            if (!CallTargets.IsCall(segment, node))
            {
                continue;
            }

            _isCall[i] = true;
            if (InsideCall(nodes, i, firstIndex))
            {
                Counters.Skip(GraphSkipReason.NestedCall);
                continue;
            }

            if (node.IsInProgress || double.IsNaN(node.Duration))
            {
                Counters.Skip(GraphSkipReason.CallInProgress);
                continue;
            }

            if (!TryId(segment.GetUtf8(node.Id), out var id))
            {
                Counters.Skip(GraphSkipReason.MalformedEntity);
                continue;
            }

            var key = new CallKey(traceHi, traceLo, id);
            Counters.Calls++;
            if (deferred is null && _pendingChildren.Remove(key, out var child))
            {
                // The traced callee came first: no need to name the node the call would infer.
                AddEdge(caller, child.Callee, node.Duration, Outcome(node));
                continue;
            }

            var target = CallTargets.Infer(segment, node);
            var inferred = Node(target.Name, target.Type, target.Kind);
            var call = new PendingCall(node.Duration, caller, inferred, Outcome(node), target.MayHaveChildSegment);
            if (deferred is not null)
            {
                deferred.Add((key, call));
            }
            else
            {
                ArriveCall(key, call);
            }
        }
    }

    private bool InsideCall(ReadOnlySpan<SegmentNode> nodes, int index, int firstIndex)
    {
        for (var p = nodes[index].ParentIndex; p >= firstIndex && p >= 0; p = nodes[p].ParentIndex)
        {
            if (_isCall[p])
            {
                return true;
            }
        }

        return false;
    }

    private void ArriveCall(CallKey key, PendingCall call)
    {
        if (_pendingChildren.Remove(key, out var child))
        {
            AddEdge(call.Caller, child.Callee, call.Seconds, call.Outcome);
            return;
        }

        if (!call.MayHaveChild)
        {
            AddInferredEdge(call);
            return;
        }

        if (Pending >= _options.MaxPendingJoins)
        {
            Counters.Skip(GraphSkipReason.PendingOverflow);
            AddInferredEdge(call);
            return;
        }

        _pendingCalls[key] = call;
        Counters.PeakPending = Math.Max(Counters.PeakPending, Pending);
    }

    private void ArriveChild(CallKey key, PendingChild child)
    {
        if (_pendingCalls.Remove(key, out var call))
        {
            AddEdge(call.Caller, child.Callee, call.Seconds, call.Outcome);
            return;
        }

        if (Pending >= _options.MaxPendingJoins)
        {
            Counters.Skip(GraphSkipReason.PendingOverflow);
            Counters.Skip(GraphSkipReason.ParentNotInWindow);
            AddEdge(0, child.Callee, child.Seconds, child.Outcome);
            return;
        }

        if (!_pendingChildren.TryAdd(key, child))
        {
            Counters.Skip(GraphSkipReason.DuplicateChild);
            return;
        }

        Counters.PeakPending = Math.Max(Counters.PeakPending, Pending);
    }

    private void AddInferredEdge(PendingCall call)
    {
        if (call.Inferred < 0)
        {
            return;
        }

        AddEdge(call.Caller, call.Inferred, call.Seconds, call.Outcome);
        _nodes[call.Inferred].Summary.Add(call.Seconds, call.Outcome);
    }

    private void AddEdge(int from, int to, double seconds, CallOutcome outcome)
    {
        if (from < 0 || to < 0)
        {
            return;
        }

        ref var stats = ref CollectionsMarshal.GetValueRefOrAddDefault(_edges, (from, to), out _);
        stats ??= new EdgeStatistics();
        stats.Add(seconds, outcome);
    }

    /// <summary>The node's index, adding it; -1 (counted) when the node table is full.</summary>
    private int Node(string name, string type, GraphNodeKind kind)
    {
        if (_nodeIds.TryGetValue((name, type), out var id))
        {
            return id;
        }

        if (_nodes.Count >= _options.MaxNodes)
        {
            Counters.Skip(GraphSkipReason.NodeOverflow);
            return -1;
        }

        id = _nodes.Count;
        _nodes.Add(new NodeState(name, type, kind));
        _nodeIds[(name, type)] = id;
        return id;
    }

    /// <summary>
    /// Resolves what still waits and returns the graph; call it once. Nodes, edges and counts do
    /// not depend on the order the documents were added in (response-time sums may differ in the
    /// last bits; the JSON rounds them to microseconds).
    /// </summary>
    public ServiceGraph Build()
    {
        foreach (var (_, call) in _pendingCalls.OrderBy(c => c.Key))
        {
            AddInferredEdge(call);
        }

        _pendingCalls.Clear();
        foreach (var (_, child) in _pendingChildren.OrderBy(c => c.Key))
        {
            Counters.Skip(GraphSkipReason.ParentNotInWindow);
            AddEdge(0, child.Callee, child.Seconds, child.Outcome);
        }

        _pendingChildren.Clear();
        Counters.Skip(GraphSkipReason.OwnerNotInWindow, _pendingOwnerCalls);
        _pendingOwners.Clear();
        _pendingOwnerCalls = 0;

        var edges = _edges.Select(e => new RawEdge(e.Key.From, e.Key.To, e.Value, Percentiles.Of(e.Value.Latency)));
        return Assemble(WindowStart, WindowEnd, _nodes.Select(n => new RawNode(n.Name, n.Type, n.Kind, n.Summary)).ToList(), edges.ToList(), Counters, "stream");
    }

    /// <summary>A node before sorting: the assembler orders nodes and renumbers edges.</summary>
    internal sealed record RawNode(string Name, string Type, GraphNodeKind Kind, EdgeStatistics Summary);

    internal sealed record RawEdge(int From, int To, EdgeStatistics Statistics, Percentiles Percentiles);

    /// <summary>Sorts nodes (client first, then name, type: ordinal), renumbers edges, marks roots and computes depths.</summary>
    internal static ServiceGraph Assemble(DateTimeOffset start, DateTimeOffset end, IReadOnlyList<RawNode> nodes, IReadOnlyList<RawEdge> edges, GraphBuildCounters counters, string engine)
    {
        // Only nodes that take part in an edge or served requests belong on the map.
        var used = new bool[nodes.Count];
        foreach (var e in edges)
        {
            used[e.From] = used[e.To] = true;
        }

        var order = Enumerable.Range(0, nodes.Count)
            .Where(i => used[i] || (nodes[i].Kind == GraphNodeKind.Service && nodes[i].Summary.TotalCount > 0))
            .OrderBy(i => nodes[i].Kind == GraphNodeKind.Client ? 0 : 1)
            .ThenBy(i => nodes[i].Name, StringComparer.Ordinal)
            .ThenBy(i => nodes[i].Type, StringComparer.Ordinal)
            .ToList();
        var renumber = new int[nodes.Count];
        Array.Fill(renumber, -1);
        for (var i = 0; i < order.Count; i++)
        {
            renumber[order[i]] = i;
        }

        var sortedEdges = edges
            .Select(e => new GraphEdge(renumber[e.From], renumber[e.To], e.Statistics, e.Percentiles))
            .OrderBy(e => e.From).ThenBy(e => e.To)
            .ToList();
        var depth = Depths(order.Count, sortedEdges);
        var roots = sortedEdges.Where(e => nodes[order[e.From]].Kind == GraphNodeKind.Client).Select(e => e.To).ToHashSet();
        var graphNodes = order.Select((n, i) => new GraphNode(i, nodes[n].Name, nodes[n].Type, nodes[n].Kind, roots.Contains(i), depth[i], nodes[n].Summary)).ToList();
        return new ServiceGraph(start, end, graphNodes, sortedEdges, counters, engine);
    }

    /// <summary>Breadth-first call depth from the client (node 0); unreached nodes start new searches at depth 1.</summary>
    private static int[] Depths(int count, IReadOnlyList<GraphEdge> edges)
    {
        var depth = new int[count];
        Array.Fill(depth, -1);
        var next = edges.ToLookup(e => e.From, e => e.To);
        var queue = new Queue<int>();
        for (var seed = 0; seed < count; seed++)
        {
            if (depth[seed] >= 0)
            {
                continue;
            }

            depth[seed] = seed == 0 ? 0 : 1;
            queue.Enqueue(seed);
            while (queue.TryDequeue(out var n))
            {
                foreach (var m in next[n])
                {
                    if (depth[m] < 0)
                    {
                        depth[m] = depth[n] + 1;
                        queue.Enqueue(m);
                    }
                }
            }
        }

        return depth;
    }

    internal static CallOutcome Outcome(in SegmentNode node)
    {
        var status = node.Http.Status;
        if (node.HasFault || status is >= 500 and < 600)
        {
            return CallOutcome.Fault;
        }

        // X-Ray: 429 Too Many Requests is a throttle (segment document, "throttle").
        if (node.HasThrottle || status == 429)
        {
            return CallOutcome.Throttle;
        }

        return node.HasError || status is >= 400 and < 500 ? CallOutcome.Error : CallOutcome.Ok;
    }

    /// <summary>X-Ray trace id <c>1-XXXXXXXX-YYYYYYYYYYYYYYYYYYYYYYYY</c> (segment document schema) as 128 bits.</summary>
    private static bool TryTraceKey(ReadOnlySpan<byte> traceId, out ulong hi, out ulong lo)
    {
        hi = lo = 0;
        if (traceId.Length != 35 || traceId[0] != (byte)'1' || traceId[1] != (byte)'-' || traceId[10] != (byte)'-')
        {
            return false;
        }

        return Utf8Parser.TryParse(traceId.Slice(2, 8), out uint epoch, out var a, 'x') && a == 8
            && Utf8Parser.TryParse(traceId.Slice(11, 8), out uint mid, out var b, 'x') && b == 8
            && Utf8Parser.TryParse(traceId.Slice(19, 16), out lo, out var c, 'x') && c == 16
            && SetHi(out hi, ((ulong)epoch << 32) | mid);

        static bool SetHi(out ulong target, ulong value)
        {
            target = value;
            return true;
        }
    }

    /// <summary>A 16-hex-digit segment or subsegment id as 64 bits.</summary>
    private static bool TryId(ReadOnlySpan<byte> id, out ulong value)
    {
        value = 0;
        return id.Length == 16 && Utf8Parser.TryParse(id, out value, out var consumed, 'x') && consumed == 16;
    }

    private readonly record struct CallKey(ulong TraceHi, ulong TraceLo, ulong Id) : IComparable<CallKey>
    {
        public int CompareTo(CallKey other)
        {
            var c = TraceHi.CompareTo(other.TraceHi);
            c = c != 0 ? c : TraceLo.CompareTo(other.TraceLo);
            return c != 0 ? c : Id.CompareTo(other.Id);
        }
    }

    /// <summary>24 bytes: with its 24-byte key and the dictionary's 8, an entry is ≈ 56 bytes.</summary>
    private readonly record struct PendingCall(double Seconds, int Caller, int Inferred, CallOutcome Outcome, bool MayHaveChild);

    private readonly record struct PendingChild(int Callee, double Seconds, CallOutcome Outcome);

    private sealed class NodeState(string name, string type, GraphNodeKind kind)
    {
        public string Name { get; } = name;
        public string Type { get; } = type;
        public GraphNodeKind Kind { get; } = kind;
        public EdgeStatistics Summary { get; } = new();
    }
}
