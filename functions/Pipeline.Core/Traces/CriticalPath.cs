namespace Pipeline.Core.Traces;

/// <summary>
/// The critical path of a trace: the chain of work that decided when the request finished. Walking
/// back from the end of the main root, the span's own time counts until the child that finished
/// last (before that point) took over; that child is followed the same way, and once it started,
/// the parent continues with the child that finished last before that start. Children are clipped
/// to their parent's time (clock skew between hosts is common), in-progress spans end at the
/// trace's end, and the walk is bounded in depth so a pathological tree cannot exhaust the stack.
/// </summary>
public static class CriticalPath
{
    /// <summary>Nesting followed at most; deeper spans count as their ancestor's own time.</summary>
    public const int MaxDepth = 256;

    public static IReadOnlyList<CriticalSection> Compute(TraceTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        if (tree.Roots.Count == 0)
        {
            return [];
        }

        // The main root: the longest (then earliest) root; other roots are orphans or late arrivals.
        var root = tree.Roots
            .OrderByDescending(r => tree.EffectiveEnd(tree.Spans[r]) - tree.Spans[r].Start)
            .ThenBy(r => tree.Spans[r].Start)
            .First();
        var sections = new List<CriticalSection>();
        var span = tree.Spans[root];
        Walk(tree, root, span.Start, tree.EffectiveEnd(span), 0, sections);
        if (sections.Count == 0)
        {
            // A root of zero duration is still the whole path.
            sections.Add(new CriticalSection(root, span.Start, span.Start));
        }

        sections.Reverse();
        return sections;
    }

    /// <summary>Adds (latest first) the sections of <paramref name="index"/> within [from, until].</summary>
    private static void Walk(TraceTree tree, int index, double from, double until, int depth, List<CriticalSection> sections)
    {
        var span = tree.Spans[index];
        var cursor = until;
        if (depth < MaxDepth)
        {
            while (cursor > from)
            {
                // The child that finished last before the cursor (clipped to this span's time).
                var best = -1;
                var bestEnd = double.NegativeInfinity;
                foreach (var c in span.Children)
                {
                    var child = tree.Spans[c];
                    var start = Math.Max(child.Start, from);
                    var end = Math.Min(tree.EffectiveEnd(child), cursor);
                    if (start < cursor && end > start && end > bestEnd)
                    {
                        best = c;
                        bestEnd = end;
                    }
                }

                if (best < 0)
                {
                    break;
                }

                if (bestEnd < cursor)
                {
                    sections.Add(new CriticalSection(index, bestEnd, cursor));
                }

                var childStart = Math.Max(tree.Spans[best].Start, from);
                Walk(tree, best, childStart, bestEnd, depth + 1, sections);
                cursor = childStart;
            }
        }

        if (cursor > from)
        {
            sections.Add(new CriticalSection(index, from, cursor));
        }
    }
}
