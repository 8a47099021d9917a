using System.Text;
using Pipeline.Core.Segments;
using Pipeline.Testing.Builders;

namespace Pipeline.Core.Tests.Segments;

public sealed class SegmentParserTests
{
    private static readonly DateTimeOffset Now = SegmentBuilder.DefaultStart.AddMinutes(5);

    [Fact]
    public void Parse_SegmentWithNestedSubsegments_FlattensInDocumentOrderWithParents()
    {
        var doc = SegmentBuilder.Segment("api")
            .WithHttp("GET", "https://api.example.com/orders?id=1", 502)
            .WithOrigin("AWS::EC2::Instance")
            .WithSubsegment(SegmentBuilder.Embedded("DynamoDB", seed: 5).WithAws("GetItem", tableName: "orders").WithThrottle())
            .WithSubsegment(SegmentBuilder.Embedded("handler", seed: 6)
                .WithSubsegment(SegmentBuilder.Embedded("postgres@db", seed: 7).WithSql("postgresql://db:5432/app", "PostgreSQL", "SELECT 1").WithFault()))
            .ToUtf8();

        var result = SegmentParser.Parse(doc);

        result.IsOk.Should().BeTrue();
        var segment = result.Segment!;
        segment.Nodes.Length.Should().Be(4);
        segment.GetString(segment.Root.Name).Should().Be("api");
        segment.GetString(segment.Root.Origin).Should().Be("AWS::EC2::Instance");
        segment.GetString(segment.Root.Http.Method).Should().Be("GET");
        segment.Root.Http.Status.Should().Be(502);
        segment.Hints.Should().HaveFlag(DocumentHints.UrlQuery);

        var dynamo = segment.Nodes[1];
        dynamo.ParentIndex.Should().Be(0);
        dynamo.HasThrottle.Should().BeTrue();
        segment.GetString(dynamo.Aws.Operation).Should().Be("GetItem");
        segment.GetString(dynamo.Aws.TableName).Should().Be("orders");
        segment.GetString(dynamo.Namespace).Should().Be("aws");

        var sql = segment.Nodes[3];
        sql.ParentIndex.Should().Be(2);
        sql.Depth.Should().Be(2);
        sql.IndexInParent.Should().Be(0);
        sql.HasFault.Should().BeTrue();
        segment.GetString(sql.Sql.DatabaseType).Should().Be("PostgreSQL");
        segment.GetString(sql.Sql.Url).Should().Be("postgresql://db:5432/app");
        SegmentValidator.Validate(segment, Now).IsRejected.Should().BeFalse();
    }

    [Fact]
    public void Parse_EscapedStrings_AreUnescapedOnRead()
    {
        var doc = """{"trace_id":"1-6925a3c0-0123456789abcdef01234567","id":"0123456789abcdef","name":"caf\u00e9 \/ api","start_time":1,"end_time":2}"""u8.ToArray();

        var segment = SegmentParser.Parse(doc).Segment!;

        segment.Root.Name.IsEscaped.Should().BeTrue();
        segment.GetString(segment.Root.Name).Should().Be("café / api");
        Encoding.UTF8.GetString(segment.GetUtf8(segment.Root.Name)).Should().Be("café / api");
    }

    [Theory]
    [InlineData("", SegmentRejectReason.Empty)]
    [InlineData("   ", SegmentRejectReason.Empty)]
    [InlineData("[1,2]", SegmentRejectReason.NotAnObject)]
    [InlineData("\"x\"", SegmentRejectReason.NotAnObject)]
    [InlineData("{\"id\":", SegmentRejectReason.InvalidJson)]
    [InlineData("{\"id\":\"a\",}", SegmentRejectReason.InvalidJson)]
    [InlineData("{} {}", SegmentRejectReason.InvalidJson)]
    [InlineData("{\"name\":\u201Cx\u201D}", SegmentRejectReason.InvalidJson)]
    public void Parse_MalformedDocument_IsRejectedWithReason(string text, SegmentRejectReason reason)
    {
        SegmentParser.Parse(Encoding.UTF8.GetBytes(text)).Rejection.Reason.Should().Be(reason);
    }

    [Theory]
    [InlineData("name", "svc\\ud800")]
    [InlineData("name", "\\udc00svc")]
    [InlineData("origin", "AWS::\\ud83d")]
    public void ParseAndValidate_LoneSurrogateEscape_IsRejectedAsInvalidJsonNotThrown(string field, string escapedValue)
    {
        var doc = Encoding.UTF8.GetString(SegmentBuilder.Segment("svc").WithOrigin("AWS::EC2::Instance").ToUtf8().ToArray());
        var original = field == "name" ? "\"name\":\"svc\"" : "\"origin\":\"AWS::EC2::Instance\"";
        doc.Should().Contain(original);
        var bad = doc.Replace(original, $"\"{field}\":\"{escapedValue}\"", StringComparison.Ordinal);

        var result = SegmentValidator.ParseAndValidate(Encoding.UTF8.GetBytes(bad), Now);

        result.IsOk.Should().BeFalse();
        result.Rejection.Reason.Should().Be(SegmentRejectReason.InvalidJson);
    }

    [Theory]
    [InlineData("\\ud83d\\ude00")]
    [InlineData("\\\\ud800")]
    [InlineData("caf\\u00e9")]
    public void ParseAndValidate_PairedSurrogatesAndEscapedBackslashes_AreAccepted(string escapedName)
    {
        var doc = Encoding.UTF8.GetString(SegmentBuilder.Segment("svc").ToUtf8().ToArray())
            .Replace("\"name\":\"svc\"", $"\"name\":\"svc{escapedName}\"", StringComparison.Ordinal);

        var result = SegmentValidator.ParseAndValidate(Encoding.UTF8.GetBytes(doc), Now);

        result.Rejection.Reason.Should().NotBe(SegmentRejectReason.InvalidJson);
    }

    [Fact]
    public void ParseAndValidate_LoneSurrogateInAnnotationKey_IsRejectedNotThrown()
    {
        var doc = Encoding.UTF8.GetString(SegmentBuilder.Segment("svc").ToUtf8().ToArray());
        var bad = doc.Insert(doc.LastIndexOf('}'), ",\"annotations\":{\"k\\ud800\":1}");

        var result = SegmentValidator.ParseAndValidate(Encoding.UTF8.GetBytes(bad), Now);

        result.IsOk.Should().BeFalse();
    }

    [Fact]
    public void Parse_InvalidUtf8_IsRejectedAsInvalidJson()
    {
        byte[] doc = [.. "{\"name\":\""u8, 0xC3, 0x28, .. "\"}"u8];

        SegmentParser.Parse(doc).Rejection.Reason.Should().Be(SegmentRejectReason.InvalidJson);
    }

    [Fact]
    public void Parse_OversizeDocument_IsRejectedBeforeReading()
    {
        var doc = new byte[SegmentLimits.XRayMaxDocumentBytes + 1];

        SegmentParser.Parse(doc).Rejection.Reason.Should().Be(SegmentRejectReason.TooLarge);
    }

    [Fact]
    public void Parse_DeeplyNestedArrays_IsRejectedAsTooDeep()
    {
        var doc = Encoding.UTF8.GetBytes("{\"metadata\":{\"x\":" + new string('[', 200) + new string(']', 200) + "}}");

        SegmentParser.Parse(doc).Rejection.Reason.Should().Be(SegmentRejectReason.TooDeep);
    }

    [Fact]
    public void Parse_SubsegmentsNestedPastLimit_IsRejectedAsTooDeep()
    {
        var limits = new SegmentLimits { MaxSubsegmentDepth = 3 };
        var builder = SegmentBuilder.Embedded("leaf", seed: 10);
        for (var i = 0; i < 4; i++)
        {
            builder = SegmentBuilder.Embedded("level" + i, seed: 11 + i).WithSubsegment(builder);
        }

        var doc = SegmentBuilder.Segment().WithSubsegment(builder).ToUtf8();

        var result = SegmentParser.Parse(doc, limits);

        result.Rejection.Reason.Should().Be(SegmentRejectReason.TooDeep);
        result.Rejection.Path.Should().Be("$.subsegments[0].subsegments[0].subsegments[0].subsegments");
    }

    [Fact]
    public void Parse_TooManySubsegments_IsRejected()
    {
        var limits = new SegmentLimits { MaxNodes = 10 };
        var builder = SegmentBuilder.Segment();
        for (var i = 0; i < 10; i++)
        {
            builder.WithSubsegment(SegmentBuilder.Embedded("s" + i, seed: 20 + i));
        }

        SegmentParser.Parse(builder.ToUtf8(), limits).Rejection.Reason.Should().Be(SegmentRejectReason.TooManySubsegments);
    }
}
