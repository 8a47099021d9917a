using Pipeline.Core.Traces;

namespace Pipeline.Cli.Trace;

/// <summary>
/// Finds one trace: reads the plan's first hours, assembles what it found, and lets the plan say
/// whether to widen (nothing found, or a segment runs past what was read). Every read is
/// reported through <paramref name="progress"/> so the user sees what was read and why.
/// </summary>
internal static class TraceLookup
{
    public static async Task<(TraceTree Tree, TraceReadReport Read)> FindAsync(
        ITraceArchive archive, string traceId, TraceLookupPlan plan, Action<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(plan);
        var lines = new List<byte[]>();
        long objects = 0;
        long bytes = 0;
        var tree = TraceAssembler.Assemble(traceId, []);
        var hours = plan.First();
        var round = 0;
        while (hours.Count > 0)
        {
            round++;
            progress?.Invoke(round == 1
                ? $"reading {ArchiveHour.Describe(hours)} (trace epoch {TraceIds.Format(plan.Epoch)})"
                : tree.IsEmpty
                    ? $"not found yet; widening to {ArchiveHour.Describe(hours)}"
                    : $"the trace runs past what was read; also reading {ArchiveHour.Describe(hours)}");
            var read = await archive.ReadAsync(traceId, hours, cancellationToken).ConfigureAwait(false);
            lines.AddRange(read.Lines);
            objects += read.Objects;
            bytes += read.Bytes;
            tree = TraceAssembler.Assemble(traceId, lines.Select(l => (ReadOnlyMemory<byte>)l));
            hours = plan.Next(new TraceFindings(
                tree.Spans.Count(s => s.Kind != SpanKind.Subsegment),
                tree.IsEmpty ? 0 : tree.End,
                tree.Spans.Count(s => s.End is null)));
        }

        return (tree, new TraceReadReport(archive.Source, plan.Read.ToList(), round, objects, bytes, archive.BytesAreScanned));
    }
}
