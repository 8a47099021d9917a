using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Sampling;
using Pipeline.Core.Segments;
using Pipeline.Testing.Builders;

namespace Pipeline.Core.Tests.Sampling;

public sealed class TraceSamplerTests
{
    private static readonly DateTimeOffset Now = SegmentBuilder.DefaultStart.AddMinutes(1);

    private static readonly SamplingPolicy HalfNoReservoir = new()
    {
        Rules = [new SamplingRule { RuleName = "half", FixedRate = 0.5 }],
    };

    [Fact]
    public void TraceHash_IsStableAcrossProcessesAndCaseInsensitive()
    {
        // Pinned value (computed independently in Python from the same FNV-1a + fmix64 definition): a change
        // here would re-sample every trace differently across a deployment.
        TraceHash.Hash64("1-5759e988-bd862e3fe1be46a994272793"u8).Should().Be(TraceHash.Hash64("1-5759E988-BD862E3FE1BE46A994272793"u8));
        TraceHash.Hash64("1-5759e988-bd862e3fe1be46a994272793"u8).Should().Be(0x9bfe5d7fc2c9c2cfUL);
    }

    [Fact]
    public void TraceHash_UnitIsRoughlyUniform()
    {
        var random = new Random(7);
        var kept = Enumerable.Range(0, 20_000)
            .Count(_ => TraceHash.Unit(Encoding.ASCII.GetBytes(SegmentBuilder.NewTraceId(Now, random))) < 0.1);

        kept.Should().BeInRange(1_800, 2_200);
    }

    [Property(MaxTest = 300)]
    public Property DecideHead_IsAPureFunctionOfTraceIdAndRules() =>
        Prop.ForAll(Gen.Choose(1, int.MaxValue - 1).ToArbitrary(), Gen.Choose(0, 100).ToArbitrary(), (seed, percent) =>
        {
            var policy = new SamplingPolicy { Rules = [new SamplingRule { RuleName = "r", FixedRate = percent / 100.0 }] };
            var builder = SegmentBuilder.Segment("svc", seed);
            var other = SegmentBuilder.Segment("other-svc", seed + 1).WithTraceId(builder.TraceId.ToUpperInvariant()).WithHttp("POST", "https://x/y", 200);
            var a = new TraceSampler(policy).DecideHead(Parse(builder.ToUtf8()), Now);
            var b = new TraceSampler(policy).DecideHead(Parse(other.ToUtf8()), Now.AddHours(3));
            return a == b with { } && a.Keep == (TraceHash.Unit(Encoding.ASCII.GetBytes(builder.TraceId)) < percent / 100.0);
        });

    [Theory]
    [InlineData("error", SamplingReason.TailError)]
    [InlineData("fault", SamplingReason.TailFault)]
    [InlineData("throttle", SamplingReason.TailThrottle)]
    public void Decide_FlaggedSegment_KeptByTail(string flag, SamplingReason reason)
    {
        var sampler = new TraceSampler(new SamplingPolicy { Rules = [] });
        var doc = SegmentBuilder.Segment().Set(flag, true).ToUtf8();

        sampler.Decide(Parse(doc), null, Now).Should().Be(new SamplingDecision(true, reason));
    }

    [Theory]
    [InlineData(500, true)]
    [InlineData(503, true)]
    [InlineData(429, true)]
    [InlineData(404, false)]
    [InlineData(200, false)]
    public void Decide_HttpStatusInSubsegment_KeptWhen5xxOr429(int status, bool kept)
    {
        var sampler = new TraceSampler(new SamplingPolicy { Rules = [] });
        var doc = SegmentBuilder.Segment().WithSubsegment(SegmentBuilder.Embedded("remote").WithHttp("GET", "https://b/", status)).ToUtf8();

        var decision = sampler.Decide(Parse(doc), null, Now);

        decision.Keep.Should().Be(kept);
        decision.Reason.Should().Be(kept ? SamplingReason.TailHttpStatus : SamplingReason.NoMatchingRule);
    }

    [Fact]
    public void Decide_SlowSegment_KeptAsTailSlow()
    {
        var sampler = new TraceSampler(new SamplingPolicy { Rules = [], Tail = new TailPolicy { SlowThreshold = TimeSpan.FromSeconds(1) } });
        var doc = SegmentBuilder.Segment().WithDuration(TimeSpan.FromSeconds(1.5)).ToUtf8();

        sampler.Decide(Parse(doc), null, Now).Reason.Should().Be(SamplingReason.TailSlow);
    }

    [Fact]
    public void Decide_FaultOutranksErrorAcrossNodes()
    {
        var doc = SegmentBuilder.Segment().WithError().WithSubsegment(SegmentBuilder.Embedded("x").WithFault()).ToUtf8();

        TraceSampler.TailReason(Parse(doc), new TailPolicy()).Should().Be(SamplingReason.TailFault);
    }

    [Fact]
    public void Decide_RememberedKeep_WinsOverHeadDrop()
    {
        var sampler = new TraceSampler(new SamplingPolicy { Rules = [new SamplingRule { RuleName = "none", FixedRate = 0 }] });
        var doc = Parse(SegmentBuilder.Segment().ToUtf8());

        sampler.Decide(doc, null, Now).Should().Be(new SamplingDecision(false, SamplingReason.Dropped, "none"));
        sampler.Decide(doc, new TraceDecision(true, SamplingReason.TailError, Now), Now).Should().Be(new SamplingDecision(true, SamplingReason.Remembered));
    }

    [Fact]
    public void DecideHead_Reservoir_TakesUpToSizePerSecondThenRefills()
    {
        var sampler = new TraceSampler(new SamplingPolicy { Rules = [new SamplingRule { RuleName = "r", FixedRate = 0, ReservoirSize = 2 }] });
        var docs = Enumerable.Range(0, 3).Select(i => Parse(SegmentBuilder.Segment(seed: 100 + i).ToUtf8())).ToList();

        docs.Select(d => sampler.DecideHead(d, Now).Reason).Should().Equal(SamplingReason.HeadReservoir, SamplingReason.HeadReservoir, SamplingReason.Dropped);
        sampler.DecideHead(docs[2], Now.AddSeconds(1)).Reason.Should().Be(SamplingReason.HeadReservoir);
    }

    [Fact]
    public void Match_PicksLowestPriorityRuleWhoseGlobsMatch()
    {
        var policy = new SamplingPolicy
        {
            Rules =
            [
                new SamplingRule { RuleName = "catch-all", Priority = 100, FixedRate = 0.01 },
                new SamplingRule { RuleName = "health", Priority = 1, UrlPath = "/health*", HttpMethod = "GET", FixedRate = 0 },
                new SamplingRule { RuleName = "orders", Priority = 2, ServiceName = "orders-*", Host = "*.example.com", ServiceType = "AWS::EC2::*", FixedRate = 1 },
            ],
        };
        var sampler = new TraceSampler(policy);

        sampler.Match(Parse(SegmentBuilder.Segment("orders-api").WithHttp("get", "https://x.example.com/health/live?x=1", 200).ToUtf8()))!.RuleName.Should().Be("health");
        sampler.Match(Parse(SegmentBuilder.Segment("orders-api").WithOrigin("AWS::EC2::Instance").WithHttp("POST", "https://api.example.com:8443/orders", 200).ToUtf8()))!.RuleName.Should().Be("orders");
        sampler.Match(Parse(SegmentBuilder.Segment("orders-api").WithHttp("POST", "https://api.example.org/orders", 200).ToUtf8()))!.RuleName.Should().Be("catch-all");
    }

    [Fact]
    public void DecideBatch_TailSegmentLaterInBatch_KeepsTheWholeTraceAndAsksToRememberIt()
    {
        var sampler = new TraceSampler(new SamplingPolicy { Rules = [new SamplingRule { RuleName = "none", FixedRate = 0 }] });
        var first = SegmentBuilder.Segment("a", seed: 1);
        var second = SegmentBuilder.Segment("b", seed: 2).WithTraceId(first.TraceId).WithFault();
        var unrelated = SegmentBuilder.Segment("c", seed: 3);

        var decisions = sampler.DecideBatch([Parse(first.ToUtf8()), Parse(second.ToUtf8()), Parse(unrelated.ToUtf8())], new Dictionary<string, TraceDecision>(), Now, out var toRemember);

        decisions.Select(d => d.Keep).Should().Equal(true, true, false);
        decisions[0].Reason.Should().Be(SamplingReason.TailFault);
        toRemember.Should().ContainSingle().Which.Key.Should().Be(first.TraceId);
    }

    [Fact]
    public void DecideBatch_RememberedTrace_KeptWithoutRememberingAgain()
    {
        var sampler = new TraceSampler(new SamplingPolicy { Rules = [new SamplingRule { RuleName = "none", FixedRate = 0 }] });
        var late = SegmentBuilder.Segment("late", seed: 8);
        var remembered = new Dictionary<string, TraceDecision> { [late.TraceId] = new(true, SamplingReason.TailError, Now.AddMinutes(-1)) };

        var decisions = sampler.DecideBatch([Parse(late.ToUtf8())], remembered, Now, out var toRemember);

        decisions[0].Should().Be(new SamplingDecision(true, SamplingReason.Remembered));
        toRemember.Should().BeEmpty();
    }

    [Fact]
    public void DecideBatch_SameTraceTwice_UsesOneReservoirSlot()
    {
        var sampler = new TraceSampler(new SamplingPolicy { Rules = [new SamplingRule { RuleName = "r", FixedRate = 0, ReservoirSize = 1 }] });
        var a = SegmentBuilder.Segment("a", seed: 1);
        var b = SegmentBuilder.Segment("b", seed: 2).WithTraceId(a.TraceId);
        var c = SegmentBuilder.Segment("c", seed: 3);

        var decisions = sampler.DecideBatch([Parse(a.ToUtf8()), Parse(b.ToUtf8()), Parse(c.ToUtf8())], new Dictionary<string, TraceDecision>(), Now, out var toRemember);

        decisions.Select(d => d.Reason).Should().Equal(SamplingReason.HeadReservoir, SamplingReason.HeadReservoir, SamplingReason.Dropped);
        toRemember.Keys.Should().Equal(a.TraceId);
    }

    [Fact]
    public async Task InMemoryStore_DecisionExpiresAfterTtl()
    {
        var clock = new FakeTimeProvider(Now);
        var store = new InMemoryTraceDecisionStore(clock);
        await store.PutManyAsync([new("t1", new TraceDecision(true, SamplingReason.TailError, Now))], TimeSpan.FromMinutes(10), TestContext.Current.CancellationToken);

        (await store.GetAsync("t1", TestContext.Current.CancellationToken)).Should().NotBeNull();
        clock.Advance(TimeSpan.FromMinutes(11));

        (await store.GetManyAsync(["t1"], TestContext.Current.CancellationToken)).Should().BeEmpty();
    }

    [Fact]
    public async Task InMemoryStore_WhenFull_EvictsOldestAndCounts()
    {
        var store = new InMemoryTraceDecisionStore(new FakeTimeProvider(Now), capacity: 3);
        for (var i = 0; i < 5; i++)
        {
            await store.PutAsync("t" + i, new TraceDecision(true, SamplingReason.Head, Now), TimeSpan.FromHours(1), TestContext.Current.CancellationToken);
        }

        store.Count.Should().Be(3);
        store.Evictions.Should().Be(2);
        (await store.GetManyAsync(["t0", "t1", "t2", "t3", "t4"], TestContext.Current.CancellationToken)).Keys.Should().BeEquivalentTo("t2", "t3", "t4");
    }

    [Fact]
    public void SamplingRule_BindsFromXRayRuleJson()
    {
        var json = """
            {"RuleName":"orders","RuleARN":"arn:aws:xray:us-east-1:123456789012:sampling-rule/orders","ResourceARN":"*",
             "Priority":10,"FixedRate":0.25,"ReservoirSize":3,"ServiceName":"orders-*","ServiceType":"AWS::EC2::Instance",
             "Host":"*","HTTPMethod":"POST","URLPath":"/orders*","Version":1,"Attributes":{}}
            """;

        var rule = System.Text.Json.JsonSerializer.Deserialize(json, SamplingJsonContext.Default.SamplingRule)!;

        rule.Should().Be(new SamplingRule
        {
            RuleName = "orders", Priority = 10, FixedRate = 0.25, ReservoirSize = 3, ServiceName = "orders-*",
            ServiceType = "AWS::EC2::Instance", Host = "*", HttpMethod = "POST", UrlPath = "/orders*", ResourceArn = "*", Version = 1,
        });
    }

    private static ParsedSegment Parse(byte[] doc) => SegmentParser.Parse(doc).Segment ?? throw new InvalidOperationException("test document does not parse");
}
