using Pipeline.Core.Graph;
using Pipeline.Core.Segments;
using Pipeline.Testing.Builders;

namespace Pipeline.Core.Tests.Graph;

/// <summary>Builds traces of known topology for the graph tests: services calling services over HTTP, AWS and SQL.</summary>
internal sealed class GraphTraces
{
    public static readonly DateTimeOffset WindowStart = SegmentBuilder.DefaultStart;
    public static readonly DateTimeOffset WindowEnd = WindowStart.AddHours(1);

    private readonly List<string> _documents = [];
    private int _seed = 100;

    public IReadOnlyList<string> Documents => _documents;

    public int NextSeed() => _seed++;

    /// <summary>A segment of <paramref name="service"/> in <paramref name="traceId"/>, called by <paramref name="parentId"/> (null: by the client).</summary>
    public SegmentBuilder Segment(string service, string traceId, string? parentId, int status = 200, double millis = 100)
    {
        var b = SegmentBuilder.Segment(service, NextSeed(), WindowStart.AddMinutes(5))
            .WithTraceId(traceId)
            .WithDuration(TimeSpan.FromMilliseconds(millis))
            .WithHttp("GET", $"http://{service}/", status);
        return parentId is null ? b : b.WithParentId(parentId);
    }

    /// <summary>An HTTP call subsegment to <paramref name="host"/>.</summary>
    public SegmentBuilder HttpCall(string host, int status = 200, double millis = 50) =>
        SegmentBuilder.Embedded(host, NextSeed(), WindowStart.AddMinutes(5))
            .WithNamespace("remote")
            .WithDuration(TimeSpan.FromMilliseconds(millis))
            .WithHttp("GET", $"http://{host}/api", status);

    public SegmentBuilder DynamoCall(string table, int? status = 200, double millis = 10) =>
        SegmentBuilder.Embedded("DynamoDB", NextSeed(), WindowStart.AddMinutes(5))
            .WithAws("GetItem", tableName: table)
            .WithDuration(TimeSpan.FromMilliseconds(millis))
            .Set("http", new System.Text.Json.Nodes.JsonObject { ["response"] = new System.Text.Json.Nodes.JsonObject { ["status"] = status } });

    public string NewTrace() => SegmentBuilder.NewTraceId(WindowStart, new Random(NextSeed()));

    public GraphTraces Add(SegmentBuilder segment)
    {
        _documents.Add(segment.ToJson());
        return this;
    }

    /// <summary>A document built elsewhere (e.g. converted from OTel spans).</summary>
    public GraphTraces AddJson(string document)
    {
        _documents.Add(document);
        return this;
    }

    public ServiceGraph Build(IEnumerable<string>? order = null, GraphBuilderOptions? options = null)
    {
        var builder = new ServiceGraphBuilder(WindowStart, WindowEnd, options);
        foreach (var doc in order ?? _documents)
        {
            builder.AddDocument(System.Text.Encoding.UTF8.GetBytes(doc)).Should().BeTrue(doc);
        }

        return builder.Build();
    }

    /// <summary>A chain of services, each calling the next over HTTP, <paramref name="times"/> traces.</summary>
    public GraphTraces Chain(int times, params string[] services)
    {
        for (var t = 0; t < times; t++)
        {
            var trace = NewTrace();
            string? parent = null;
            for (var i = 0; i < services.Length; i++)
            {
                var segment = Segment(services[i], trace, parent);
                if (i + 1 < services.Length)
                {
                    var call = HttpCall(services[i + 1]);
                    segment.WithSubsegment(call);
                    parent = call.Id;
                }

                Add(segment);
            }
        }

        return this;
    }

    internal static ParsedSegment Parse(string json) => SegmentParser.Parse(System.Text.Encoding.UTF8.GetBytes(json)).Segment!;
}
