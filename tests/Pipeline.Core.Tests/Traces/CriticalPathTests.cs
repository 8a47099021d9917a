using Pipeline.Core.Traces;
using Pipeline.Testing.Builders;
using static Pipeline.Core.Tests.Traces.TraceFixtures;

namespace Pipeline.Core.Tests.Traces;

public sealed class CriticalPathTests
{
    [Fact]
    public void Compute_FaultedTrace_FollowsTheCallDownAndBack()
    {
        var tree = Assemble(FaultedTrace());

        var path = tree.CriticalPath.Select(c => (tree.Spans[c.Span].Id, Math.Round((c.Start - tree.Start) * 1000), Math.Round((c.End - tree.Start) * 1000)));

        path.Should().Equal(
            (SegmentA, 0d, 20d),
            (CallB, 20d, 30d),
            (SegmentB, 30d, 40d),
            (Dynamo, 40d, 230d),
            (SegmentB, 230d, 240d),
            (CallB, 240d, 250d),
            (SegmentA, 250d, 260d),
            (Independent, 260d, 290d),
            (SegmentA, 290d, 300d));
    }

    [Fact]
    public void Compute_ParallelChildren_TakesTheOneThatFinishedLast()
    {
        var root = SegmentBuilder.Segment("api").WithTraceId(TraceId).WithId(SegmentA).WithTimes(T(0), T(100))
            .WithSubsegment(SegmentBuilder.Embedded("fast", seed: 10).WithId("f000000000000001").WithTimes(T(10), T(40)))
            .WithSubsegment(SegmentBuilder.Embedded("slow", seed: 11).WithId("f000000000000002").WithTimes(T(10), T(90)));

        var tree = Assemble([root.ToJson()]);

        tree.CriticalPath.Select(c => tree.Spans[c.Span].Name).Should().Equal("api", "slow", "api");
        tree.IsOnCriticalPath(tree.Span("f000000000000001").Index).Should().BeFalse();
    }

    [Fact]
    public void Compute_ChildOutlivesParent_IsClippedToTheParent()
    {
        // Clock skew: the callee's segment claims to end after its caller.
        var root = SegmentBuilder.Segment("api").WithTraceId(TraceId).WithId(SegmentA).WithTimes(T(0), T(100)).ToJson();
        var callee = SegmentBuilder.Segment("db").WithTraceId(TraceId).WithId(SegmentB).WithParentId(SegmentA).WithTimes(T(50), T(150)).ToJson();

        var tree = Assemble([root, callee]);

        var sections = tree.CriticalPath;
        sections.Sum(c => c.End - c.Start).Should().BeApproximately(tree.Span(SegmentA).Duration!.Value, 1e-9);
        sections.Should().OnlyContain(c => c.End <= T(100) + 1e-9);
    }

    [Fact]
    public void Compute_AnySections_CoverTheRootExactlyOnce()
    {
        var tree = Assemble(FaultedTrace());

        var ordered = tree.CriticalPath.ToList();
        ordered[0].Start.Should().Be(tree.Span(SegmentA).Start);
        ordered[^1].End.Should().Be(tree.Span(SegmentA).End);
        for (var i = 1; i < ordered.Count; i++)
        {
            ordered[i].Start.Should().BeApproximately(ordered[i - 1].End, 1e-9);
        }
    }

    [Fact]
    public void Compute_DeepChain_StaysBounded()
    {
        // 600 segments, each the parent of the next: deeper than the walk follows, and no stack overflow.
        var lines = new List<string>();
        for (var i = 0; i < 600; i++)
        {
            var b = SegmentBuilder.Segment("s" + i, seed: i).WithTraceId(TraceId).WithId($"{i + 1:x16}").WithTimes(T(i), T(2000 - i));
            lines.Add((i == 0 ? b : b.WithParentId($"{i:x16}")).ToJson());
        }

        var tree = Assemble(lines);

        tree.Spans.Should().HaveCount(600);
        tree.Spans.Max(s => s.Depth).Should().Be(599);
        tree.CriticalPath.Should().NotBeEmpty();
        tree.CriticalPath.Max(c => tree.Spans[c.Span].Depth).Should().Be(CriticalPath.MaxDepth);
    }
}
