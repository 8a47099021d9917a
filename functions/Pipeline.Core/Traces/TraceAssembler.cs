using Pipeline.Core.Segments;

namespace Pipeline.Core.Traces;

/// <summary>
/// Builds the tree of one trace from archived lines: every segment document, its embedded
/// subsegments, independent subsegments under the entity their <c>parent_id</c> names, and
/// downstream segments under the caller's subsegment. What it cannot place is counted in
/// <see cref="TraceTree.Notes"/>, never dropped silently: unreadable lines, lines of other traces
/// (a cheap prefilter may let them through), duplicates (an SDK sends an in-progress copy and
/// then the complete one, with the same id) and parents missing from what was read.
/// </summary>
public static class TraceAssembler
{
    /// <summary>Spans kept per trace; a trace is rarely over a few hundred (X-Ray caps a trace at 500 KB of documents).</summary>
    public const int MaxSpans = 10_000;

    public static TraceTree Assemble(string traceId, IEnumerable<ReadOnlyMemory<byte>> lines, SegmentLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(lines);
        if (!TraceIds.TryNormalize(traceId, out var key))
        {
            throw new ArgumentException($"'{traceId}' is not a trace id", nameof(traceId));
        }

        var unreadable = 0;
        var otherTrace = 0;
        var duplicateDocs = 0;
        var byRootId = new Dictionary<string, int>(StringComparer.Ordinal);
        var docs = new List<ParsedSegment>();
        foreach (var line in lines)
        {
            var trimmed = Trim(line);
            if (trimmed.IsEmpty)
            {
                continue;
            }

            var parsed = SegmentParser.Parse(trimmed, limits);
            if (!parsed.IsOk)
            {
                unreadable++;
                continue;
            }

            var segment = parsed.Segment;
            if (!string.Equals(segment.TraceIdKey(), key, StringComparison.Ordinal))
            {
                otherTrace++;
                continue;
            }

            var rootId = segment.GetString(segment.Root.Id) ?? string.Empty;
            if (byRootId.TryGetValue(rootId, out var seen))
            {
                duplicateDocs++;
                if (Better(segment, docs[seen]))
                {
                    docs[seen] = segment;
                }

                continue;
            }

            byRootId[rootId] = docs.Count;
            docs.Add(segment);
        }

        return Build(key, docs, new TraceAssemblyNotes(unreadable, otherTrace, duplicateDocs, 0, 0, 0));
    }

    private static TraceTree Build(string traceId, List<ParsedSegment> docs, TraceAssemblyNotes notes)
    {
        // 1. Flatten every entity of every document, first occurrence of an id wins.
        var entities = new List<Entity>();
        var byId = new Dictionary<string, int>(StringComparer.Ordinal);
        var duplicateEntities = 0;
        var overLimit = 0;
        for (var d = 0; d < docs.Count; d++)
        {
            var doc = docs[d];
            var nodes = doc.Nodes;
            var global = new int[nodes.Length];
            var paths = new List<int>[nodes.Length];
            for (var n = 0; n < nodes.Length; n++)
            {
                ref readonly var node = ref nodes[n];
                paths[n] = node.ParentIndex < 0 ? [] : [.. paths[node.ParentIndex], node.IndexInParent];
                var id = doc.GetString(node.Id) ?? string.Empty;
                if (byId.TryGetValue(id, out var existing))
                {
                    duplicateEntities++;
                    global[n] = existing;
                    continue;
                }

                if (entities.Count == MaxSpans)
                {
                    overLimit++;
                    global[n] = -1;
                    continue;
                }

                var structuralParent = node.ParentIndex < 0 ? -1 : global[node.ParentIndex];
                global[n] = entities.Count;
                byId[id] = entities.Count;
                entities.Add(new Entity(d, n, id, structuralParent, node.ParentIndex < 0, paths[n]));
            }
        }

        // 2. Parents: embedded entities by structure, document roots by parent_id.
        var parent = new int[entities.Count];
        var missing = new bool[entities.Count];
        for (var i = 0; i < entities.Count; i++)
        {
            var e = entities[i];
            parent[i] = e.StructuralParent;
            if (!e.IsDocumentRoot)
            {
                continue;
            }

            var doc = docs[e.Doc];
            if (doc.GetString(doc.Root.ParentId) is { Length: > 0 } parentId)
            {
                if (byId.TryGetValue(parentId, out var p) && p != i)
                {
                    parent[i] = p;
                }
                else
                {
                    missing[i] = true;
                }
            }
        }

        BreakCycles(parent, missing);

        // 3. Children in time order, roots in time order, pre-order walk.
        var children = new List<int>[entities.Count];
        var roots = new List<int>();
        for (var i = 0; i < entities.Count; i++)
        {
            children[i] = [];
        }

        for (var i = 0; i < entities.Count; i++)
        {
            (parent[i] < 0 ? roots : children[parent[i]]).Add(i);
        }

        var starts = new double[entities.Count];
        for (var i = 0; i < entities.Count; i++)
        {
            starts[i] = StartOf(docs, entities, parent, i);
        }

        Comparison<int> byStart = (a, b) =>
        {
            var c = starts[a].CompareTo(starts[b]);
            return c != 0 ? c : string.CompareOrdinal(entities[a].Id, entities[b].Id);
        };
        roots.Sort(byStart);
        foreach (var list in children)
        {
            list.Sort(byStart);
        }

        var order = new List<(int Entity, int Depth)>(entities.Count);
        var stack = new Stack<(int Entity, int Depth)>();
        for (var r = roots.Count - 1; r >= 0; r--)
        {
            stack.Push((roots[r], 0));
        }

        while (stack.Count > 0)
        {
            var (e, depth) = stack.Pop();
            order.Add((e, depth));
            for (var c = children[e].Count - 1; c >= 0; c--)
            {
                stack.Push((children[e][c], depth + 1));
            }
        }

        var newIndex = new int[entities.Count];
        for (var i = 0; i < order.Count; i++)
        {
            newIndex[order[i].Entity] = i;
        }

        // 4. The spans, each with its service: the name of the nearest enclosing segment.
        var spans = new TraceSpan[order.Count];
        var services = new string?[entities.Count];
        for (var i = 0; i < order.Count; i++)
        {
            var (e, depth) = order[i];
            var entity = entities[e];
            var doc = docs[entity.Doc];
            ref readonly var node = ref doc.Nodes[entity.Node];
            var kind = !entity.IsDocumentRoot ? SpanKind.Subsegment
                : doc.IsIndependentSubsegment ? SpanKind.IndependentSubsegment
                : SpanKind.Segment;
            var name = doc.GetString(node.Name) ?? string.Empty;
            services[e] = kind == SpanKind.Segment ? name : parent[e] >= 0 ? services[parent[e]] : name;
            var end = node.IsInProgress || double.IsNaN(node.EndTime) ? (double?)null : node.EndTime;
            spans[i] = new TraceSpan
            {
                Index = i,
                ParentIndex = parent[e] < 0 ? -1 : newIndex[parent[e]],
                Depth = depth,
                Children = children[e].Select(c => newIndex[c]).ToArray(),
                Id = entity.Id,
                ParentId = entity.IsDocumentRoot ? doc.GetString(node.ParentId) : entities[entity.StructuralParent].Id,
                MissingParent = missing[e],
                Name = name,
                Service = services[e] ?? name,
                Kind = kind,
                Namespace = doc.GetString(node.Namespace),
                Origin = doc.GetString(node.Origin),
                Start = starts[e],
                End = end is { } x && x >= starts[e] ? x : end is null ? null : starts[e],
                InProgress = node.IsInProgress || end is null,
                Error = node.HasError,
                Fault = node.HasFault,
                Throttle = node.HasThrottle,
                Inferred = (node.Traits & EntityTraits.Inferred) != 0,
                HasCause = (node.Traits & EntityTraits.HasCause) != 0,
                HttpMethod = doc.GetString(node.Http.Method),
                HttpUrl = doc.GetString(node.Http.Url),
                HttpStatus = node.Http.Status == 0 ? null : node.Http.Status,
                AwsOperation = doc.GetString(node.Aws.Operation),
                SqlUrl = doc.GetString(node.Sql.Url),
                Document = entity.Doc,
                PathInDocument = entity.Path,
            };
        }

        var start = spans.Length == 0 ? double.NaN : spans.Min(s => s.Start);
        var endOfTrace = spans.Length == 0 ? double.NaN : spans.Max(s => s.End ?? s.Start);
        var tree = new TraceTree
        {
            TraceId = traceId,
            Spans = spans,
            Roots = roots.Select(r => newIndex[r]).ToArray(),
            Documents = docs.Select(d => d.Document).ToArray(),
            CriticalPath = [],
            Notes = notes with { DuplicateEntities = duplicateEntities, MissingParents = missing.Count(m => m), SpansOverLimit = overLimit },
            Start = start,
            End = endOfTrace,
        };
        return tree with { CriticalPath = CriticalPath.Compute(tree) };
    }

    /// <summary>A start time for every entity: its own, else its parent's (documents always have one once validated).</summary>
    private static double StartOf(List<ParsedSegment> docs, List<Entity> entities, int[] parent, int i)
    {
        for (var guard = 0; i >= 0 && guard <= entities.Count; guard++)
        {
            var e = entities[i];
            var start = docs[e.Doc].Nodes[e.Node].StartTime;
            if (!double.IsNaN(start))
            {
                return start;
            }

            i = parent[i];
        }

        return 0;
    }

    /// <summary>A hostile or broken archive can name parents in a ring; the entity that closes it becomes a root.</summary>
    private static void BreakCycles(int[] parent, bool[] missing)
    {
        var state = new byte[parent.Length]; // 0 unvisited, 1 on the current walk, 2 done
        var walk = new List<int>();
        for (var i = 0; i < parent.Length; i++)
        {
            walk.Clear();
            var at = i;
            while (at >= 0 && state[at] == 0)
            {
                state[at] = 1;
                walk.Add(at);
                at = parent[at];
            }

            if (at >= 0 && state[at] == 1)
            {
                parent[at] = -1;
                missing[at] = true;
            }

            foreach (var w in walk)
            {
                state[w] = 2;
            }
        }
    }

    /// <summary>Of two copies of one document, the complete one wins, then the one with more entities.</summary>
    private static bool Better(ParsedSegment candidate, ParsedSegment current)
    {
        var candidateDone = !candidate.Root.IsInProgress && !double.IsNaN(candidate.Root.EndTime);
        var currentDone = !current.Root.IsInProgress && !double.IsNaN(current.Root.EndTime);
        return candidateDone != currentDone ? candidateDone : candidate.Nodes.Length > current.Nodes.Length;
    }

    private static ReadOnlyMemory<byte> Trim(ReadOnlyMemory<byte> line)
    {
        var span = line.Span;
        var start = 0;
        var end = span.Length;
        while (start < end && span[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            start++;
        }

        while (end > start && span[end - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            end--;
        }

        return line[start..end];
    }

    private sealed record Entity(int Doc, int Node, string Id, int StructuralParent, bool IsDocumentRoot, List<int> Path);
}
