using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Lambda;
using Pipeline.Lambda.Logging;
using Pipeline.Runtime.Configuration;

namespace Pipeline.Lambda.Tests;

public sealed class LambdaErrorTests
{
    [Fact]
    public void FromException_ThrownException_HasTypeMessageAndFrames()
    {
        var error = LambdaError.FromException(Thrown(new ArgumentOutOfRangeException("limit", "too many")));

        error.ErrorType.Should().Be(nameof(ArgumentOutOfRangeException));
        error.ErrorMessage.Should().StartWith("too many");
        error.StackTrace.Should().NotBeEmpty().And.AllSatisfy(f => f.Should().StartWith("at "));
    }

    [Fact]
    public void FromException_ConfigurationException_IsConfigInvalidWithEveryProblemAndNoFrames()
    {
        var error = LambdaError.FromException(new ConfigurationException(["ARCHIVE_BUCKET is required (the archive)", "SAMPLING_RATE: '2' is not a number from 0 to 1"]));

        error.ErrorType.Should().Be(LambdaError.Types.ConfigInvalid);
        error.ErrorMessage.Should().Be("ARCHIVE_BUCKET is required (the archive); SAMPLING_RATE: '2' is not a number from 0 to 1");
        error.StackTrace.Should().BeEmpty();
    }

    [Fact]
    public void FromException_SingleInnerAggregate_IsUnwrapped()
    {
        var error = LambdaError.FromException(new AggregateException(new TimeoutException("slow")));

        error.ErrorType.Should().Be(nameof(TimeoutException));
    }

    [Fact]
    public void Create_LongMessage_IsBounded()
    {
        var error = LambdaError.Create(new string('x', LambdaError.MaxMessageChars + 10), "T", []);

        error.ErrorMessage.Should().HaveLength(LambdaError.MaxMessageChars);
    }

    [Fact]
    public void Serialize_UsesLambdaFieldNames()
    {
        var json = JsonSerializer.Serialize(LambdaError.Create("m", "T", ["f"]), LambdaJsonContext.Default.LambdaError);

        json.Should().Be("""{"errorMessage":"m","errorType":"T","stackTrace":["f"]}""");
    }

    private static Exception Thrown(Exception exception)
    {
        try
        {
            throw exception;
        }
        catch (Exception caught)
        {
            return caught;
        }
    }
}

public sealed class JsonLineLoggerTests
{
    [Fact]
    public void Log_WritesOneJsonObjectPerLineWithRequestId()
    {
        using var output = new MemoryStream();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var logger = new JsonLineLogger(output, time, LogLevel.Information).ForRequest("req-1");

        logger.LogWarning("batch of {Count} records", 3);
        logger.LogDebug("filtered out");

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = lines.Should().ContainSingle().Subject;
        using var doc = JsonDocument.Parse(line);
        doc.RootElement.GetProperty("timestamp").GetString().Should().Be("2026-11-25T12:00:00.000Z");
        doc.RootElement.GetProperty("level").GetString().Should().Be("WARN");
        doc.RootElement.GetProperty("requestId").GetString().Should().Be("req-1");
        doc.RootElement.GetProperty("message").GetString().Should().Be("batch of 3 records");
        doc.RootElement.GetProperty("Count").GetInt32().Should().Be(3, "the template's named values are fields Logs Insights can filter on");
        doc.RootElement.TryGetProperty("{OriginalFormat}", out _).Should().BeFalse();
    }

    [Fact]
    public void Log_WithException_CarriesLambdasErrorFields()
    {
        using var output = new MemoryStream();
        var logger = new JsonLineLogger(output, TimeProvider.System, LogLevel.Information);

        logger.LogError(new InvalidOperationException("broken"), "Handler failed");

        using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(output.ToArray()));
        doc.RootElement.GetProperty("level").GetString().Should().Be("ERROR");
        doc.RootElement.GetProperty("errorType").GetString().Should().Be(nameof(InvalidOperationException));
        doc.RootElement.GetProperty("errorMessage").GetString().Should().Be("broken");
        doc.RootElement.GetProperty("stackTrace").ValueKind.Should().Be(JsonValueKind.Array);
    }

    [Theory]
    [InlineData("DEBUG", LogLevel.Debug)]
    [InlineData("warn", LogLevel.Warning)]
    [InlineData("FATAL", LogLevel.Critical)]
    [InlineData(null, LogLevel.Information)]
    [InlineData("loud", LogLevel.Information)]
    public void ParseLevel_LambdaLevelNames_MapToLogLevel(string? value, LogLevel expected)
    {
        JsonLineLogger.ParseLevel(value).Should().Be(expected);
    }
}
