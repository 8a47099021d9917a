using System.Text;
using System.Text.Json;
using Pipeline.Core.Segments;
using Pipeline.Core.Traces;
using Pipeline.Testing;

namespace Pipeline.Core.Tests.Traces;

/// <summary>
/// Every document of ../shared/corpus/real-segments that the ingest would archive becomes a trace
/// of its own: each of its entities a span, and every renderer (terminal, JSON, HTML) handles it.
/// </summary>
public sealed class CorpusTraceTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> ArchivableDocuments()
    {
        var data = new TheoryData<string>();
        foreach (var line in File.ReadLines(Path.Combine(RepoPaths.RealSegmentsCorpus, "MANIFEST.tsv")).Skip(1))
        {
            var file = line.Split('\t')[0];
            var bytes = File.ReadAllBytes(Path.Combine(RepoPaths.RealSegmentsCorpus, file));
            if (SegmentValidator.ParseAndValidate(bytes, Now).IsOk)
            {
                data.Add(file);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ArchivableDocuments))]
    public void Assemble_ArchivableCorpusDocument_EveryEntityIsASpanAndEveryRendererCopes(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(RepoPaths.RealSegmentsCorpus, file));
        var parsed = SegmentParser.Parse(bytes).Segment!;

        var tree = TraceAssembler.Assemble(parsed.TraceIdKey(), [bytes]);

        tree.Spans.Should().HaveCount(parsed.Nodes.Length);
        tree.Roots.Should().ContainSingle();
        tree.CriticalPath.Should().NotBeEmpty();
        var text = WaterfallText.Render(tree);
        text.Should().Contain(tree.TraceId);
        // Real documents carry whatever applications wrote: the terminal gets no control or format character but the line ends.
        text.Where(c => c != '\n' && (char.IsControl(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format)).Should().BeEmpty();
        // Strict JSON: a property named twice (the span count and the span list once were) is refused.
        using var json = JsonDocument.Parse(TraceJson.ToUtf8(tree, includeDocuments: true), new JsonDocumentOptions { AllowDuplicateProperties = false });
        json.RootElement.GetProperty("spans").GetArrayLength().Should().Be(parsed.Nodes.Length);
        json.RootElement.GetProperty("span_count").GetInt32().Should().Be(parsed.Nodes.Length);
        TraceHtml.StandalonePage(tree).Should().Contain("data-span-id=\"" + tree.Spans[0].Id + "\"");
    }

    [Fact]
    public void Corpus_HasArchivableDocumentsWithSubsegments()
    {
        // The theory above must not pass vacuously.
        var files = ArchivableDocuments().Select(d => (string)d.Data).ToList();
        files.Should().HaveCountGreaterThan(10);
        files.Count(f => NodeCount(f) > 1).Should().BePositive();
    }

    private static int NodeCount(string file) => SegmentParser.Parse(File.ReadAllBytes(Path.Combine(RepoPaths.RealSegmentsCorpus, file))).Segment!.Nodes.Length;
}
