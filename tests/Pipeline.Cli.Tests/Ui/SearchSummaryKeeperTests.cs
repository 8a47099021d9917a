using Microsoft.Extensions.Time.Testing;
using Pipeline.Cli.Query;
using Pipeline.Cli.Trace;
using Pipeline.Core.Archive;
using Pipeline.Core.Traces;
using Pipeline.Testing;
using Pipeline.Testing.Builders;

namespace Pipeline.Cli.Tests.Ui;

/// <summary>
/// What `pipeline up` runs after each mirror pass: the search summaries of closed hours are built
/// once, rebuilt when the hour's objects change, never for the open hour, and a failure is counted
/// and retried, not thrown.
/// </summary>
public sealed class SearchSummaryKeeperTests : IDisposable
{
    private static readonly IReadOnlyList<Core.Query.AthenaTableDefinition> Tables = AthenaSqlFiles.Locate(RepoPaths.Root).Tables();
    private static readonly ArchiveHour Eleven = new(new DateTimeOffset(2026, 11, 25, 11, 0, 0, TimeSpan.Zero));
    private static readonly ArchiveHour Ten = new(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero));
    private readonly UiTestArchive _archive = new();

    public void Dispose() => _archive.Dispose();

    [Fact]
    public void Refresh_ClosedHours_BuiltOnce_ThenAgainWhenAnObjectArrives()
    {
        var time = new FakeTimeProvider(UiTestArchive.Now.AddMinutes(5));
        var keeper = new SearchSummaryKeeper(_archive.Root, Tables, time);

        var first = keeper.Refresh();
        var second = keeper.Refresh();
        _archive.WriteGzip(ArchiveKeys.Segments("shardId-000000000002", "900", new DateTimeOffset(2026, 11, 25, 11, 59, 0, TimeSpan.Zero)),
            UiTestArchive.HealthyTrace(new DateTimeOffset(2026, 11, 25, 11, 58, 0, TimeSpan.Zero), 5000, 25));
        var third = keeper.Refresh();

        first.Should().Be(2);
        second.Should().Be(0);
        third.Should().Be(1);
        using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection.Open();
        SearchSummaryFiles.IsCurrent(connection, _archive.Root, Eleven).Should().BeTrue();
        SearchSummaryFiles.IsCurrent(connection, _archive.Root, Ten).Should().BeTrue();
        keeper.Failures.Should().Be(0);
    }

    [Fact]
    public void Refresh_OpenHour_IsLeftToBeReadRaw()
    {
        var keeper = new SearchSummaryKeeper(_archive.Root, Tables, new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 11, 30, 0, TimeSpan.Zero)));

        keeper.Refresh().Should().Be(1);

        File.Exists(Path.Combine(_archive.Root, SearchSummary.Key(Ten))).Should().BeTrue();
        File.Exists(Path.Combine(_archive.Root, SearchSummary.Key(Eleven))).Should().BeFalse();
    }

    [Fact]
    public void Refresh_SummaryCannotBeWritten_CountsTheFailure_AndRetriesOnTheNextPass()
    {
        // A directory where the summary file should go: the rename fails.
        var blocked = Path.Combine(_archive.Root, SearchSummary.Key(Eleven));
        Directory.CreateDirectory(blocked);
        var keeper = new SearchSummaryKeeper(_archive.Root, Tables, new FakeTimeProvider(UiTestArchive.Now.AddMinutes(5)));

        keeper.Refresh().Should().Be(1, "10h is still summarised");
        keeper.Failures.Should().Be(1);
        keeper.LastError.Should().Contain("hour=11");
        Directory.Delete(blocked);
        keeper.Refresh().Should().Be(1);
        keeper.Failures.Should().Be(1);
        Directory.EnumerateFiles(Path.GetDirectoryName(blocked)!, "*.tmp").Should().BeEmpty();
    }
}
