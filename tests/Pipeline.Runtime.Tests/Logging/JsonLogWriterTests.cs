using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Runtime.Logging;

namespace Pipeline.Runtime.Tests.Logging;

public sealed class JsonLogWriterTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 3, 15, 4, 5, 67, TimeSpan.Zero);

    [Fact]
    public void Write_MessageWithFields_IsOneLineInTheLambdaJsonSchema()
    {
        using var output = new MemoryStream();
        var log = new JsonLogWriter(output, new FakeTimeProvider(At), LogSeverity.Info);

        log.Write(LogSeverity.Warn, "kinesis down", ("stream", "xray"), ("spooled", 12L), ("healthy", false), ("after", TimeSpan.FromMilliseconds(1500)), ("none", null));

        var line = Lines(output).Should().ContainSingle().Subject;
        line.Should().StartWith("""{"timestamp":"2026-12-03T15:04:05.067Z","level":"WARN","message":"kinesis down",""");
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        root.GetProperty("stream").GetString().Should().Be("xray");
        root.GetProperty("spooled").GetInt64().Should().Be(12);
        root.GetProperty("healthy").GetBoolean().Should().BeFalse();
        root.GetProperty("after").GetDouble().Should().Be(1.5);
        root.GetProperty("none").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public void Write_RequestIdAndError_AreTheSchemasOwnKeys()
    {
        using var output = new MemoryStream();
        var log = new JsonLogWriter(output, new FakeTimeProvider(At), LogSeverity.Trace);

        log.Write(LogSeverity.Error, "Handler failed", "req-1", new LogError("System.IO.IOException", "disk", ["at A", "at B"]), []);

        using var document = JsonDocument.Parse(Lines(output).Single());
        var root = document.RootElement;
        root.GetProperty("requestId").GetString().Should().Be("req-1");
        root.GetProperty("errorType").GetString().Should().Be("System.IO.IOException");
        root.GetProperty("errorMessage").GetString().Should().Be("disk");
        root.GetProperty("stackTrace").EnumerateArray().Select(f => f.GetString()).Should().Equal("at A", "at B");
    }

    [Fact]
    public void Write_FieldNamedLikeASchemaKeyOrNonFinite_NeitherDuplicatesAKeyNorBreaksTheJson()
    {
        using var output = new MemoryStream();
        var log = new JsonLogWriter(output, new FakeTimeProvider(At), LogSeverity.Info);

        log.Write(LogSeverity.Info, "real", ("message", "forged"), ("level", "FATAL"), ("ratio", double.NaN), ("big", double.PositiveInfinity));

        var line = Lines(output).Single();
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        root.EnumerateObject().Select(p => p.Name).Should().OnlyHaveUniqueItems();
        root.GetProperty("message").GetString().Should().Be("real");
        root.GetProperty("level").GetString().Should().Be("INFO");
        root.GetProperty("field_message").GetString().Should().Be("forged");
        root.GetProperty("field_level").GetString().Should().Be("FATAL");
        root.GetProperty("ratio").GetString().Should().Be("NaN");
        root.GetProperty("big").GetString().Should().Be("Infinity");
    }

    [Fact]
    public void Write_BelowTheMinimum_WritesNothing()
    {
        using var output = new MemoryStream();
        var log = new JsonLogWriter(output, new FakeTimeProvider(At), LogSeverity.Warn);

        log.Write(LogSeverity.Info, "chatty");
        log.Write(LogSeverity.Debug, "chattier");

        output.Length.Should().Be(0);
        log.IsEnabled(LogSeverity.Error).Should().BeTrue();
    }

    [Fact]
    public async Task Write_ConcurrentWriters_LinesNeverInterleave()
    {
        using var output = new MemoryStream();
        var log = new JsonLogWriter(output, new FakeTimeProvider(At), LogSeverity.Info);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < 200; i++)
            {
                log.Write(LogSeverity.Info, new string('x', 100 + i), ("writer", w), ("i", i));
            }
        })));

        var lines = Lines(output);
        lines.Should().HaveCount(1600);
        lines.Should().AllSatisfy(l => JsonDocument.Parse(l).Dispose());
    }

    [Theory]
    [InlineData("TRACE", LogSeverity.Trace)]
    [InlineData("debug", LogSeverity.Debug)]
    [InlineData(" Info ", LogSeverity.Info)]
    [InlineData("warning", LogSeverity.Warn)]
    [InlineData("WARN", LogSeverity.Warn)]
    [InlineData("error", LogSeverity.Error)]
    [InlineData("FATAL", LogSeverity.Fatal)]
    [InlineData("loud", null)]
    [InlineData(null, null)]
    public void Parse_LevelNamesInAnyCase_MapToSeverities(string? text, LogSeverity? expected)
    {
        JsonLogWriter.Parse(text).Should().Be(expected);
    }

    private static string[] Lines(MemoryStream output) =>
        Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
