using Pipeline.Cli.Query;
using Pipeline.Cli.Trace;
using Pipeline.Cli.Ui;
using Pipeline.Core.Archive;
using Pipeline.Core.Traces;
using Pipeline.Testing;
using Pipeline.Testing.Builders;

namespace Pipeline.Cli.Tests.Ui;

/// <summary>
/// The UI's search through the per-hour search summaries gives exactly what a scan of the raw
/// NDJSON gives (rows, order, values and histogram), for every filter, and still does when the
/// archive changed after the summaries were built: a late object, an object rewritten longer by a
/// retried batch, an object gone, an unreadable summary. Each test has its own archive.
/// </summary>
public sealed class SearchSummaryTests : IDisposable
{
    private static readonly IReadOnlyList<Core.Query.AthenaTableDefinition> Tables = AthenaSqlFiles.Locate(RepoPaths.Root).Tables();
    private static readonly ArchiveHour Eleven = new(new DateTimeOffset(2026, 11, 25, 11, 0, 0, TimeSpan.Zero));
    private static readonly ArchiveHour Ten = new(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero));

    private readonly UiTestArchive _archive = new();
    private readonly UiArchive _ui;

    public SearchSummaryTests() => _ui = new UiArchive(_archive.Root, Tables);

    public static TheoryData<string> Searches() =>
    [
        "since=2h",
        "since=1h&fault=1",
        "since=1h&error=1",
        "since=1h&throttle=1",
        "since=1h&service=service-b&service=DynamoDB",
        "since=1h&service=service-b&service=payments",
        "since=1h&service=service-a&service=service-b",
        "since=1h&min_ms=90&max_ms=210",
        "since=1h&method=post",
        "since=1h&status=429",
        "since=1h&url=%2Fcheckout",
        "since=1h&annotation=customer%3Dalice",
        "since=2h&limit=3",
        "from=2026-11-25T10:00:00Z&to=2026-11-25T11:00:00Z",
        "from=2026-11-25T11:40:00Z&to=2026-11-25T11:46:00Z",
    ];

    public void Dispose()
    {
        _ui.Dispose();
        _archive.Dispose();
    }

    [Theory]
    [MemberData(nameof(Searches))]
    public void Search_ThroughSummaries_IsExactlyTheScan(string query)
    {
        BuildSummaries();
        var search = Parse(query);

        var summarized = _ui.Search(search);
        var scanned = _ui.ScanSearch(search);

        summarized.SummarizedHours.Should().BeGreaterThan(0);
        Same(summarized, scanned);
        scanned.Matches.Should().BeGreaterThan(0, "the comparison must be over real matches");
    }

    [Fact]
    public void Search_ThroughSummaries_ReadsLessThanTheScan()
    {
        BuildSummaries();
        var search = Parse("since=2h");

        var summarized = _ui.Search(search);

        summarized.SummarizedHours.Should().Be(2);
        summarized.BytesRead.Should().Be(SummaryBytes(Ten) + SummaryBytes(Eleven));
    }

    [Fact]
    public void Search_LateObject_IsReadRawBesideTheSummary()
    {
        BuildSummaries();
        var late = DemoTrace.TraceId(new DateTimeOffset(2026, 11, 25, 11, 55, 0, TimeSpan.Zero), seed: 4242);
        _archive.WriteGzip(ArchiveKeys.Segments("shardId-000000000002", "900", new DateTimeOffset(2026, 11, 25, 11, 58, 0, TimeSpan.Zero)),
            DemoTrace.Documents(new DateTimeOffset(2026, 11, 25, 11, 55, 0, TimeSpan.Zero), late));
        var search = Parse("since=1h&fault=1");

        var summarized = _ui.Search(search);

        summarized.SummarizedHours.Should().Be(2, "the summaries of 10h and 11h still cover the objects they name");
        summarized.Traces.Select(t => t.TraceId).Should().Contain(late);
        Same(summarized, _ui.ScanSearch(search));
    }

    [Fact]
    public void Search_ObjectRewrittenLonger_ReadsTheHourRaw()
    {
        BuildSummaries();
        // A retried batch rewrites its object with more records behind the first ones.
        var key = ArchiveKeys.Segments("shardId-000000000000", "50", new DateTimeOffset(2026, 11, 25, 10, 0, 5, TimeSpan.Zero));
        var extra = DemoTrace.TraceId(new DateTimeOffset(2026, 11, 25, 10, 30, 0, TimeSpan.Zero), seed: 77);
        var lines = UiTestArchive.HealthyTrace(new DateTimeOffset(2026, 11, 25, 10, 5, 0, TimeSpan.Zero), 2000, 30)
            .Concat(DemoTrace.Documents(new DateTimeOffset(2026, 11, 25, 10, 30, 0, TimeSpan.Zero), extra));
        var search = Parse("from=2026-11-25T10:00:00Z&to=2026-11-25T11:00:00Z&fault=1");
        var before = _ui.Search(search).SummarizedHours;
        _archive.WriteGzip(key, lines);

        var summarized = _ui.Search(search);

        summarized.Traces.Select(t => t.TraceId).Should().Equal(extra);
        summarized.SummarizedHours.Should().Be(before - 1, "10h's summary names the object with its old size");
        Same(summarized, _ui.ScanSearch(search));
    }

    [Fact]
    public void Search_ObjectGone_DropsItsRowsWithTheSummary()
    {
        BuildSummaries();
        var search = Parse("since=1h");
        var before = _ui.Search(search).SummarizedHours;
        File.Delete(Path.Combine(_archive.Root, ArchiveKeys.Segments("shardId-000000000001", "100", new DateTimeOffset(2026, 11, 25, 11, 0, 7, TimeSpan.Zero))));

        var summarized = _ui.Search(search);

        summarized.SummarizedHours.Should().Be(before - 1);
        Same(summarized, _ui.ScanSearch(search));
    }

    [Theory]
    [InlineData("not parquet at all")]
    [InlineData("PAR1")]
    public void Search_UnreadableSummary_ReadsTheHourRaw(string content)
    {
        BuildSummaries();
        var search = Parse("since=1h&fault=1");
        var before = _ui.Search(search).SummarizedHours;
        File.WriteAllText(Path.Combine(_archive.Root, SearchSummary.Key(Eleven)), content);

        var summarized = _ui.Search(search);

        summarized.SummarizedHours.Should().Be(before - 1);
        summarized.Matches.Should().Be(2);
        Same(summarized, _ui.ScanSearch(search));
    }

    [Fact]
    public void Search_SummaryOfOtherObjects_IsNotTrusted()
    {
        // 10h's summary copied over 11h's: it names objects 11h does not have.
        BuildSummaries();
        var search = Parse("since=1h");
        var before = _ui.Search(search).SummarizedHours;
        File.Copy(Path.Combine(_archive.Root, SearchSummary.Key(Ten)), Path.Combine(_archive.Root, SearchSummary.Key(Eleven)), overwrite: true);

        var summarized = _ui.Search(search);

        summarized.SummarizedHours.Should().Be(before - 1);
        Same(summarized, _ui.ScanSearch(search));
    }

    [Fact]
    public async Task IndexCommand_LocalArchive_BuildsSummariesOnceThenSaysCurrent()
    {
        var first = new StringWriter();
        (await IndexCommand.RunAsync(new Pipeline.Cli.Graph.DirectoryObjectStore(_archive.Root), "archive", ArchiveKeys.SegmentsPrefix, force: false, first, TestContext.Current.CancellationToken, (_archive.Root, Tables))).Should().Be(0);
        var second = new StringWriter();
        (await IndexCommand.RunAsync(new Pipeline.Cli.Graph.DirectoryObjectStore(_archive.Root), "archive", ArchiveKeys.SegmentsPrefix, force: false, second, TestContext.Current.CancellationToken, (_archive.Root, Tables))).Should().Be(0);

        first.ToString().Should().Contain("trace-index/dt=2026-11-25/hour=11/search.parquet: 2 objects").And.Contain("trace-index/dt=2026-11-25/hour=10/search.parquet: 1 objects");
        second.ToString().Should().Contain("trace-index/dt=2026-11-25/hour=11/search.parquet: current").And.Contain("trace-index/dt=2026-11-25/hour=10/search.parquet: current");
        File.Exists(Path.Combine(_archive.Root, SearchSummary.Key(Eleven))).Should().BeTrue();
        Directory.EnumerateFiles(Path.Combine(_archive.Root, TraceIndex.Prefix), "*.tmp", SearchOption.AllDirectories).Should().BeEmpty();
    }

    private static void Same(SearchResult actual, SearchResult expected)
    {
        actual.Traces.Should().Equal(expected.Traces);
        actual.Histogram.Should().Equal(expected.Histogram);
        actual.Matches.Should().Be(expected.Matches);
    }

    private static TraceSearch Parse(string query)
    {
        var values = query.Split('&').Select(p => p.Split('=', 2)).GroupBy(p => p[0])
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(p => Uri.UnescapeDataString(p[1])).ToList());
        return TraceSearch.TryParse(n => values.GetValueOrDefault(n) ?? [], UiTestArchive.Now, out var errors) ?? throw new ArgumentException(string.Join("; ", errors));
    }

    private long SummaryBytes(ArchiveHour hour) => new FileInfo(Path.Combine(_archive.Root, SearchSummary.Key(hour))).Length;

    private void BuildSummaries()
    {
        SearchSummaryFiles.Build(_archive.Root, Tables, Ten);
        SearchSummaryFiles.Build(_archive.Root, Tables, Eleven);
    }
}
