using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Runtime.Logging;
using Relay.Config;
using Relay.Logging;

namespace Relay.Tests.Logging;

public sealed class JsonLogTests
{
    [Fact]
    public void Write_UsesTheFunctionsSchema_SoLocalModeLinesReadAlike()
    {
        var output = new MemoryStream();
        var log = new JsonLog(output, new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 18, 0, 1, 250, TimeSpan.Zero)), RelayLogLevel.Info);

        log.Warn("kinesis down", ("attempt", 3), ("message", "forged"));

        using var line = JsonDocument.Parse(Encoding.UTF8.GetString(output.ToArray()).TrimEnd('\n'));
        var root = line.RootElement;
        root.GetProperty(JsonLogWriter.TimestampKey).GetString().Should().Be("2026-12-04T18:00:01.250Z");
        root.GetProperty(JsonLogWriter.LevelKey).GetString().Should().Be("WARN");
        root.GetProperty(JsonLogWriter.MessageKey).GetString().Should().Be("kinesis down");
        root.GetProperty("attempt").GetInt32().Should().Be(3);
        root.GetProperty("field_message").GetString().Should().Be("forged", "a field never overwrites the schema's own keys");
    }

    [Theory]
    [InlineData(RelayLogLevel.Error, false, false, true)]
    [InlineData(RelayLogLevel.Warn, false, true, true)]
    [InlineData(RelayLogLevel.Info, false, true, true)]
    [InlineData(RelayLogLevel.Debug, true, true, true)]
    [InlineData(RelayLogLevel.Dev, true, true, true)]
    public void Level_MapsTheDaemonsNamesOntoTheSharedSeverities(RelayLogLevel level, bool debug, bool warn, bool error)
    {
        var log = new JsonLog(Stream.Null, TimeProvider.System, level);

        log.IsEnabled(LogSeverity.Debug).Should().Be(debug);
        log.IsEnabled(LogSeverity.Warn).Should().Be(warn);
        log.IsEnabled(LogSeverity.Error).Should().Be(error);
    }
}
