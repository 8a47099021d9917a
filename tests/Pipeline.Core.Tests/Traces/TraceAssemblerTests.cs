using System.Text;
using Pipeline.Core.Traces;
using Pipeline.Testing.Builders;
using static Pipeline.Core.Tests.Traces.TraceFixtures;

namespace Pipeline.Core.Tests.Traces;

public sealed class TraceAssemblerTests
{
    [Fact]
    public void Assemble_FaultedTrace_NestsDownstreamSegmentUnderCallerSubsegment()
    {
        var tree = Assemble(FaultedTrace());

        tree.Spans.Select(s => (s.Id, s.Depth)).Should().Equal(
            (SegmentA, 0), (CallB, 1), (SegmentB, 2), (Dynamo, 3), (Independent, 1));
        tree.Span(SegmentB).ParentIndex.Should().Be(tree.Span(CallB).Index);
        tree.Span(CallB).Kind.Should().Be(SpanKind.Subsegment);
        tree.Span(Independent).Kind.Should().Be(SpanKind.IndependentSubsegment);
        tree.Roots.Should().Equal(tree.Span(SegmentA).Index);
        tree.SegmentCount.Should().Be(2);
    }

    [Fact]
    public void Assemble_FaultedTrace_ServiceIsTheEnclosingSegment()
    {
        var tree = Assemble(FaultedTrace());

        tree.Span(CallB).Service.Should().Be("service-a");
        tree.Span(Dynamo).Service.Should().Be("service-b");
        tree.Span(Independent).Service.Should().Be("service-a");
        tree.Services.Should().Equal("service-a", "service-b");
    }

    [Fact]
    public void Assemble_FaultedTrace_KeepsTimesStatusAndFlags()
    {
        var tree = Assemble(FaultedTrace());

        tree.Duration.Should().BeApproximately(0.300, 1e-6);
        tree.Span(SegmentB).Duration.Should().BeApproximately(0.210, 1e-6);
        tree.Span(SegmentB).HttpStatus.Should().Be(500);
        tree.Span(SegmentB).HasCause.Should().BeTrue();
        tree.Span(Dynamo).AwsOperation.Should().Be("PutItem");
        tree.HasFault.Should().BeTrue();
        tree.Notes.Should().Be(default(TraceAssemblyNotes));
    }

    [Fact]
    public void Assemble_LinesInAnyOrder_GivesTheSameTree()
    {
        var forward = Assemble(FaultedTrace());
        var backward = Assemble(FaultedTrace().Reverse());

        backward.Spans.Select(s => (s.Id, s.Depth, s.ParentIndex)).Should().Equal(forward.Spans.Select(s => (s.Id, s.Depth, s.ParentIndex)));
    }

    [Fact]
    public void Assemble_InProgressCopyThenComplete_KeepsTheCompleteOneAndCountsTheDuplicate()
    {
        var inProgress = SegmentBuilder.Segment("service-a").WithTraceId(TraceId).WithId(SegmentA).WithTimes(T(0), null).InProgress().ToJson();

        var tree = Assemble([inProgress, .. FaultedTrace()]);

        tree.Span(SegmentA).End.Should().NotBeNull();
        tree.Span(SegmentA).InProgress.Should().BeFalse();
        tree.Notes.DuplicateDocuments.Should().Be(1);
        tree.Spans.Should().HaveCount(5);
    }

    [Fact]
    public void Assemble_OnlyInProgress_ShowsTheSpanOpen()
    {
        var inProgress = SegmentBuilder.Segment("service-a").WithTraceId(TraceId).WithId(SegmentA).WithTimes(T(0), null).InProgress().ToJson();
        var child = SegmentBuilder.Segment("service-b").WithTraceId(TraceId).WithId(SegmentB).WithParentId(SegmentA).WithTimes(T(10), T(50)).ToJson();

        var tree = Assemble([inProgress, child]);

        tree.Span(SegmentA).End.Should().BeNull();
        tree.EffectiveEnd(tree.Span(SegmentA)).Should().BeApproximately(T(50), 1e-6);
    }

    [Fact]
    public void Assemble_OtherTracesAndBrokenLines_AreCountedNotShown()
    {
        var other = SegmentBuilder.Segment("service-x", seed: 9).ToJson();

        var tree = Assemble([.. FaultedTrace(), other, "{\"trace_id\": \"" + TraceId + "\", ", "", "   "]);

        tree.Spans.Should().HaveCount(5);
        tree.Notes.OtherTraceLines.Should().Be(1);
        tree.Notes.UnreadableLines.Should().Be(1);
    }

    [Fact]
    public void Assemble_UppercaseTraceId_MatchesTheLowercaseKey()
    {
        var upper = SegmentBuilder.Segment("service-a").WithTraceId(TraceId.ToUpperInvariant()).WithId(SegmentA).ToJson();

        var tree = TraceAssembler.Assemble(TraceId.ToUpperInvariant(), [Encoding.UTF8.GetBytes(upper)]);

        tree.TraceId.Should().Be(TraceId);
        tree.Spans.Should().ContainSingle();
    }

    [Fact]
    public void Assemble_ParentNotInArchive_IsARootMarkedMissing()
    {
        var orphan = SegmentBuilder.Segment("service-b").WithTraceId(TraceId).WithId(SegmentB).WithParentId("ffffffffffffffff").ToJson();

        var tree = Assemble([orphan]);

        tree.Span(SegmentB).MissingParent.Should().BeTrue();
        tree.Span(SegmentB).ParentIndex.Should().Be(-1);
        tree.Notes.MissingParents.Should().Be(1);
    }

    [Fact]
    public void Assemble_ParentsInARing_BreaksTheRingInsteadOfLooping()
    {
        var one = SegmentBuilder.Segment("one").WithTraceId(TraceId).WithId("1111111111111111").WithParentId("2222222222222222").ToJson();
        var two = SegmentBuilder.Segment("two").WithTraceId(TraceId).WithId("2222222222222222").WithParentId("1111111111111111").ToJson();
        var self = SegmentBuilder.Segment("self").WithTraceId(TraceId).WithId("3333333333333333").WithParentId("3333333333333333").ToJson();

        var tree = Assemble([one, two, self]);

        tree.Spans.Should().HaveCount(3);
        tree.Roots.Should().HaveCount(2);
        tree.Spans.Count(s => s.MissingParent).Should().Be(2);
    }

    [Fact]
    public void Assemble_SubsegmentIdSeenTwice_ShowsItOnce()
    {
        var a = SegmentBuilder.Segment("service-a").WithTraceId(TraceId).WithId(SegmentA).WithTimes(T(0), T(100))
            .WithSubsegment(SegmentBuilder.Embedded("call").WithId(CallB).WithTimes(T(10), T(20))).ToJson();
        var again = SegmentBuilder.IndependentSubsegment("call").WithTraceId(TraceId).WithId(CallB).WithParentId(SegmentA).WithTimes(T(10), T(20)).ToJson();

        var tree = Assemble([a, again]);

        tree.Spans.Should().HaveCount(2);
        tree.Notes.DuplicateEntities.Should().Be(1);
    }

    [Fact]
    public void Assemble_NoLines_IsEmpty()
    {
        var tree = Assemble([]);

        tree.IsEmpty.Should().BeTrue();
        tree.CriticalPath.Should().BeEmpty();
        WaterfallLayout.Rows(tree).Should().BeEmpty();
    }

    [Fact]
    public void Assemble_NotATraceId_Throws()
    {
        var act = () => TraceAssembler.Assemble("1-xyz", []);

        act.Should().Throw<ArgumentException>();
    }
}
