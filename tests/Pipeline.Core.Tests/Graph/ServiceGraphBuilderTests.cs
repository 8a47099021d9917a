using Pipeline.Core.Graph;

namespace Pipeline.Core.Tests.Graph;

public sealed class ServiceGraphBuilderTests
{
    private static string[] EdgeNames(ServiceGraph g) =>
        [.. g.Edges.Select(e => $"{g.Nodes[e.From].Name}->{g.Nodes[e.To].Name}")];

    [Fact]
    public void Build_ChainABC_HasClientAndTwoServiceEdges()
    {
        var traces = new GraphTraces().Chain(3, "a", "b", "c");

        var graph = traces.Build();

        EdgeNames(graph).Should().BeEquivalentTo("client->a", "a->b", "b->c");
        graph.Edges.Should().OnlyContain(e => e.Statistics.TotalCount == 3 && e.Statistics.OkCount == 3);
        graph.Nodes.Select(n => (n.Name, n.Depth)).Should().BeEquivalentTo([("client", 0), ("a", 1), ("b", 2), ("c", 3)]);
        graph.Find("a")!.Root.Should().BeTrue();
        graph.Find("b")!.Root.Should().BeFalse();
        graph.Find("a")!.Type.Should().Be(CallTargets.GenericServiceType);
        graph.Counters.NonZero().Should().BeEmpty();
    }

    [Fact]
    public void Build_ChildSegmentsBeforeTheirCallers_GivesTheSameGraph()
    {
        var traces = new GraphTraces().Chain(4, "a", "b", "c");
        var forward = traces.Build();

        var backward = traces.Build(traces.Documents.Reverse());

        EdgeNames(backward).Should().Equal(EdgeNames(forward));
        backward.Edges.Select(e => e.Statistics.TotalCount).Should().Equal(forward.Edges.Select(e => e.Statistics.TotalCount));
        // Everything but the pending-join high-water mark, which is what order changes.
        ServiceGraphJson.Serialize(ServiceGraphJson.ToDocument(backward) with { PeakPendingJoins = 0 })
            .Should().Equal(ServiceGraphJson.Serialize(ServiceGraphJson.ToDocument(forward) with { PeakPendingJoins = 0 }));
    }

    [Fact]
    public void Build_FanOut_OneEdgePerCallee()
    {
        var t = new GraphTraces();
        var trace = t.NewTrace();
        var toB = t.HttpCall("b");
        var toC = t.HttpCall("c");
        t.Add(t.Segment("a", trace, null).WithSubsegment(toB).WithSubsegment(toC));
        t.Add(t.Segment("b", trace, toB.Id));
        t.Add(t.Segment("c", trace, toC.Id));

        var graph = t.Build();

        EdgeNames(graph).Should().BeEquivalentTo("client->a", "a->b", "a->c");
        graph.Find("b")!.Depth.Should().Be(2);
        graph.Find("c")!.Depth.Should().Be(2);
    }

    [Fact]
    public void Build_Cycle_BothDirectionsAndFiniteDepths()
    {
        var t = new GraphTraces();
        var trace = t.NewTrace();
        var aToB = t.HttpCall("b");
        var bToA = t.HttpCall("a");
        t.Add(t.Segment("a", trace, null).WithSubsegment(aToB));
        t.Add(t.Segment("b", trace, aToB.Id).WithSubsegment(bToA));
        t.Add(t.Segment("a", trace, bToA.Id));

        var graph = t.Build();

        EdgeNames(graph).Should().BeEquivalentTo("client->a", "a->b", "b->a");
        graph.Find("a")!.Summary.TotalCount.Should().Be(2);
        graph.Find("a")!.Depth.Should().Be(1);
        graph.Find("b")!.Depth.Should().Be(2);
    }

    [Fact]
    public void Build_UntracedHttpHost_BecomesARemoteNodeNamedByHost()
    {
        var t = new GraphTraces();
        t.Add(t.Segment("a", t.NewTrace(), null).WithSubsegment(t.HttpCall("API.Example.com:8443", status: 503)));

        var graph = t.Build();

        var remote = graph.Find("api.example.com:8443");
        remote.Should().NotBeNull();
        remote!.Type.Should().Be(CallTargets.RemoteType);
        remote.Kind.Should().Be(GraphNodeKind.Remote);
        graph.Edge("a", "api.example.com:8443")!.Statistics.FaultCount.Should().Be(1);
    }

    [Fact]
    public void Build_DynamoDbCalls_NodePerTableWithThrottles()
    {
        var t = new GraphTraces();
        var segment = t.Segment("a", t.NewTrace(), null)
            .WithSubsegment(t.DynamoCall("orders"))
            .WithSubsegment(t.DynamoCall("orders", status: 429))
            .WithSubsegment(t.DynamoCall("orders", status: 400));
        t.Add(segment);

        var graph = t.Build();

        var table = graph.Find("orders")!;
        table.Type.Should().Be("AWS::DynamoDB::Table");
        var edge = graph.Edge("a", "orders")!.Statistics;
        (edge.TotalCount, edge.OkCount, edge.ThrottleCount, edge.ErrorOtherCount, edge.ErrorCount, edge.FaultCount).Should().Be((3, 1, 1, 1, 2, 0));
    }

    [Fact]
    public void Build_SqlCall_NodeFromUrlWithoutCredentials()
    {
        var t = new GraphTraces();
        var sql = Pipeline.Testing.Builders.SegmentBuilder.Embedded("orders@db", t.NextSeed(), GraphTraces.WindowStart.AddMinutes(5))
            .WithSql("jdbc:postgresql://app:secret@db.internal:5432/orders?ssl=true", "PostgreSQL");
        t.Add(t.Segment("a", t.NewTrace(), null).WithSubsegment(sql));

        var graph = t.Build();

        graph.Find("db.internal:5432/orders")!.Type.Should().Be(CallTargets.SqlType);
    }

    [Fact]
    public void Build_FailingEdge_CountsFaultsAndErrorsFromTheCallersView()
    {
        var t = new GraphTraces();
        foreach (var status in new[] { 200, 500, 502, 404, 429 })
        {
            var trace = t.NewTrace();
            var call = t.HttpCall("b", status);
            t.Add(t.Segment("a", trace, null, status: status >= 500 ? 500 : 200).WithSubsegment(call));
            t.Add(t.Segment("b", trace, call.Id, status: status));
        }

        var graph = t.Build();

        var edge = graph.Edge("a", "b")!.Statistics;
        (edge.TotalCount, edge.OkCount, edge.FaultCount, edge.ErrorOtherCount, edge.ThrottleCount).Should().Be((5, 1, 2, 1, 1));
        graph.Find("b")!.Summary.FaultCount.Should().Be(2);
        graph.Edge("client", "a")!.Statistics.FaultCount.Should().Be(2);
    }

    [Fact]
    public void Build_ChildWhoseCallIsOutsideTheWindow_IsCalledByTheClient()
    {
        var t = new GraphTraces();
        t.Add(t.Segment("b", t.NewTrace(), "0123456789abcdef"));

        var graph = t.Build();

        EdgeNames(graph).Should().Equal("client->b");
        graph.Counters.Skipped(GraphSkipReason.ParentNotInWindow).Should().Be(1);
    }

    [Fact]
    public void Build_SegmentsOutsideTheWindowOrInProgress_AreSkippedAndCounted()
    {
        var t = new GraphTraces();
        var late = Pipeline.Testing.Builders.SegmentBuilder.Segment("late", 5, GraphTraces.WindowEnd);
        var running = Pipeline.Testing.Builders.SegmentBuilder.Segment("running", 6, GraphTraces.WindowStart.AddMinutes(1)).InProgress();
        t.Add(late).Add(running);

        var graph = t.Build();

        graph.Edges.Should().BeEmpty();
        graph.Counters.Skipped(GraphSkipReason.OutsideWindow).Should().Be(1);
        graph.Counters.Skipped(GraphSkipReason.InProgress).Should().Be(1);
    }

    [Fact]
    public void Build_IndependentSubsegmentBeforeItsSegment_CallAttributedToTheOwner()
    {
        var t = new GraphTraces();
        var trace = t.NewTrace();
        var owner = t.Segment("a", trace, null);
        var independent = t.DynamoCall("orders").Set("type", "subsegment").Set("trace_id", trace).Set("parent_id", owner.Id);
        t.Add(independent).Add(owner);

        var graph = t.Build();

        EdgeNames(graph).Should().BeEquivalentTo("client->a", "a->orders");
    }

    [Fact]
    public void Build_NestedCallInsideACall_CountsTheOuterOnly()
    {
        var t = new GraphTraces();
        var outer = t.DynamoCall("orders").WithSubsegment(t.HttpCall("dynamodb.us-east-1.amazonaws.com"));
        t.Add(t.Segment("a", t.NewTrace(), null).WithSubsegment(outer));

        var graph = t.Build();

        EdgeNames(graph).Should().BeEquivalentTo("client->a", "a->orders");
        graph.Counters.Skipped(GraphSkipReason.NestedCall).Should().Be(1);
    }

    [Fact]
    public void Build_PendingMapFull_ResolvesAtOnceAndCounts()
    {
        var t = new GraphTraces();
        for (var i = 0; i < 5; i++)
        {
            t.Add(t.Segment("a", t.NewTrace(), null).WithSubsegment(t.HttpCall("ext.example")));
        }

        var graph = t.Build(options: new GraphBuilderOptions(MaxPendingJoins: 2));

        graph.Edge("a", "ext.example")!.Statistics.TotalCount.Should().Be(5);
        graph.Counters.Skipped(GraphSkipReason.PendingOverflow).Should().Be(3);
        graph.Counters.PeakPending.Should().Be(2);
        ServiceGraphJson.ToDocument(graph).PeakPendingJoins.Should().Be(2);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Build_LambdaInvoke_CallerToLambdaToFunction(bool reversed)
    {
        var t = new GraphTraces();
        var trace = t.NewTrace();
        var invoke = Pipeline.Testing.Builders.SegmentBuilder.Embedded("Lambda", t.NextSeed(), GraphTraces.WindowStart.AddMinutes(5))
            .WithAws("Invoke").WithDuration(TimeSpan.FromMilliseconds(80));
        var lambda = t.Segment("resize", trace, invoke.Id).WithOrigin("AWS::Lambda");
        var function = t.Segment("resize", trace, lambda.Id, status: 502).WithOrigin("AWS::Lambda::Function");
        t.Add(t.Segment("a", trace, null).WithSubsegment(invoke)).Add(lambda).Add(function);

        var graph = t.Build(reversed ? t.Documents.Reverse() : null);

        graph.Edges.Select(e => $"{graph.Nodes[e.From].Name}:{graph.Nodes[e.From].Type}->{graph.Nodes[e.To].Name}:{graph.Nodes[e.To].Type}").Should().BeEquivalentTo(
            "client:client->a:service", "a:service->resize:AWS::Lambda", "resize:AWS::Lambda->resize:AWS::Lambda::Function");
        graph.Find("Lambda").Should().BeNull("the invoke reached a traced Lambda, not an inferred node");
        graph.Counters.Skipped(GraphSkipReason.ParentNotInWindow).Should().Be(0);
    }

    [Fact]
    public void Build_OriginIsTheServiceType()
    {
        var t = new GraphTraces();
        t.Add(t.Segment("fn", t.NewTrace(), null).WithOrigin("AWS::Lambda::Function"));

        t.Build().Find("fn")!.Type.Should().Be("AWS::Lambda::Function");
    }
}
