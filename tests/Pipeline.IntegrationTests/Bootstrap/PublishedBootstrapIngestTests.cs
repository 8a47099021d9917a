using System.Text.Json;
using Pipeline.IntegrationTests.Ingest;
using Pipeline.Testing;
using Pipeline.Testing.Builders;

namespace Pipeline.IntegrationTests.Bootstrap;

/// <summary>The published bootstrap running the ingest handler against the emulator and moto: the success path.</summary>
[Collection(PublishedBootstrapGroup.Name)]
public sealed class PublishedBootstrapIngestTests(PublishedBootstrapFixture bootstrap, MotoFixture moto) : IClassFixture<MotoFixture>
{
    [Fact]
    public async Task Bootstrap_IngestWithAKinesisEvent_AnswersNoFailuresAndArchivesToMotoS3()
    {
        var ct = TestContext.Current.CancellationToken;
        using var pipeline = await MotoPipeline.CreateAsync(moto, ct);
        var start = TimeProvider.System.GetUtcNow().AddMinutes(-1);
        var segments = Enumerable.Range(0, 5).Select(i => SegmentBuilder.Segment("svc", seed: 9000 + i, start: start)).ToList();
        var events = new KinesisEventBuilder().FromStream(pipeline.Stream).ArrivingAt(start);
        foreach (var s in segments)
        {
            events.AddRecord(s.ToUtf8(), s.TraceId);
        }

        var run = await bootstrap.RunBootstrapAsync(new BootstrapRunOptions
        {
            HandlerName = "ingest",
            Events = [events.BuildJson()],
            Environment = pipeline.FunctionEnvironment(),
            InvocationTimeout = TimeSpan.FromSeconds(30),
        });

        run.InitErrors.Should().BeEmpty(run.ToString());
        var outcome = await run.Invocations.Single().Outcome;
        outcome.IsError.Should().BeFalse(run.ToString());
        using var response = JsonDocument.Parse(outcome.Body);
        response.RootElement.GetProperty("batchItemFailures").GetArrayLength().Should().Be(0);
        (await pipeline.ReadLinesAsync("segments/", ct)).Should().HaveCount(5);
        run.StandardOutput.Should().Contain("\"Namespace\":\"XRayPipeline\"", "the EMF line goes to stdout");
    }

    [Fact]
    public async Task Bootstrap_IngestWithoutArchiveBucket_PostsConfigInitError()
    {
        var run = await bootstrap.RunBootstrapAsync(new BootstrapRunOptions
        {
            HandlerName = "ingest",
            Events = ["""{"Records":[]}"""],
            Environment = new Dictionary<string, string?> { ["DECISION_TABLE"] = "t" },
        });

        var error = run.InitErrors.Should().ContainSingle().Subject;
        error.ErrorType.Should().Be("Runtime.ConfigInvalid");
        error.ErrorMessage.Should().Contain("ARCHIVE_BUCKET is required");
    }
}
