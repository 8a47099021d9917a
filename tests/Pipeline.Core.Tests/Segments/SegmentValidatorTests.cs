using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Pipeline.Core.Segments;
using Pipeline.Testing.Builders;

namespace Pipeline.Core.Tests.Segments;

public sealed class SegmentValidatorTests
{
    private static readonly DateTimeOffset Now = SegmentGenerators.Now;

    /// <summary>Single-field mutations that break the schema, each with the reason and path it must produce.</summary>
    public static readonly (string Name, Action<JsonObject> Mutate, SegmentRejectReason Reason, string Path)[] Mutations =
    [
        ("remove trace_id", j => j.Remove("trace_id"), SegmentRejectReason.MissingTraceId, "$.trace_id"),
        ("short trace_id", j => j["trace_id"] = "1-abc-def", SegmentRejectReason.InvalidTraceId, "$.trace_id"),
        ("numeric trace_id", j => j["trace_id"] = 5577006791947779410, SegmentRejectReason.InvalidTraceId, "$.trace_id"),
        ("non-hex trace_id", j => j["trace_id"] = "1-5759e988-bd862e3fe1be46a99427279s", SegmentRejectReason.InvalidTraceId, "$.trace_id"),
        ("version 2 trace_id", j => j["trace_id"] = "2" + ((string)j["trace_id"]!)[1..], SegmentRejectReason.InvalidTraceId, "$.trace_id"),
        ("remove id", j => j.Remove("id"), SegmentRejectReason.MissingId, "$.id"),
        ("15-digit id", j => j["id"] = "0123456789abcde", SegmentRejectReason.InvalidId, "$.id"),
        ("non-hex id", j => j["id"] = "0123456789abcdeg", SegmentRejectReason.InvalidId, "$.id"),
        ("numeric id", j => j["id"] = 12, SegmentRejectReason.InvalidId, "$.id"),
        ("bad parent_id", j => j["parent_id"] = "parent", SegmentRejectReason.InvalidParentId, "$.parent_id"),
        ("type segment", j => j["type"] = "segment", SegmentRejectReason.InvalidType, "$.type"),
        ("subsegment without parent", j => { j["type"] = "subsegment"; j.Remove("parent_id"); }, SegmentRejectReason.MissingParentId, "$.parent_id"),
        ("remove name", j => j.Remove("name"), SegmentRejectReason.MissingName, "$.name"),
        ("empty name", j => j["name"] = "", SegmentRejectReason.InvalidName, "$.name"),
        ("name with ?", j => j["name"] = "what?", SegmentRejectReason.InvalidName, "$.name"),
        ("name with *", j => j["name"] = "a*b", SegmentRejectReason.InvalidName, "$.name"),
        ("numeric name", j => j["name"] = 7, SegmentRejectReason.InvalidName, "$.name"),
        ("201-char name", j => j["name"] = new string('n', 201), SegmentRejectReason.NameTooLong, "$.name"),
        ("remove start_time", j => j.Remove("start_time"), SegmentRejectReason.MissingStartTime, "$.start_time"),
        ("string start_time", j => j["start_time"] = "1764064800", SegmentRejectReason.InvalidStartTime, "$.start_time"),
        ("negative start_time", j => j["start_time"] = -1, SegmentRejectReason.InvalidStartTime, "$.start_time"),
        ("no end, not in progress", j => { j.Remove("end_time"); j.Remove("in_progress"); }, SegmentRejectReason.MissingEndTime, "$.end_time"),
        ("no end, in_progress false", j => { j.Remove("end_time"); j["in_progress"] = false; }, SegmentRejectReason.MissingEndTime, "$.end_time"),
        ("string end_time", j => { j["end_time"] = "later"; }, SegmentRejectReason.InvalidEndTime, "$.end_time"),
        ("string in_progress", j => j["in_progress"] = "true", SegmentRejectReason.InvalidInProgress, "$.in_progress"),
        ("string error", j => j["error"] = "true", SegmentRejectReason.InvalidFlag, "$.error"),
        ("numeric fault", j => j["fault"] = 1, SegmentRejectReason.InvalidFlag, "$.fault"),
        ("numeric namespace", j => j["namespace"] = 1, SegmentRejectReason.InvalidNamespace, "$.namespace"),
        ("annotations array", j => j["annotations"] = new JsonArray(), SegmentRejectReason.InvalidAnnotations, "$.annotations"),
        ("annotation key with dash", j => j["annotations"] = new JsonObject { ["bad-key"] = 1 }, SegmentRejectReason.InvalidAnnotationKey, "$.annotations['bad-key']"),
        ("annotation object value", j => j["annotations"] = new JsonObject { ["k"] = new JsonObject() }, SegmentRejectReason.InvalidAnnotationValue, "$.annotations.k"),
        ("annotation null value", j => j["annotations"] = new JsonObject { ["k"] = null }, SegmentRejectReason.InvalidAnnotationValue, "$.annotations.k"),
        ("metadata string", j => j["metadata"] = "x", SegmentRejectReason.InvalidMetadata, "$.metadata"),
        ("subsegments object", j => j["subsegments"] = new JsonObject(), SegmentRejectReason.InvalidSubsegments, "$.subsegments"),
        ("subsegments of numbers", j => j["subsegments"] = new JsonArray(1), SegmentRejectReason.InvalidSubsegments, "$.subsegments"),
        ("nested subsegment without name", j => j["subsegments"] = new JsonArray(Child(c => c.Remove("name"))), SegmentRejectReason.MissingName, "$.subsegments[0].name"),
        ("nested subsegment bad id", j => j["subsegments"] = new JsonArray(Child(_ => { }), Child(c => c["id"] = "x")), SegmentRejectReason.InvalidId, "$.subsegments[1].id"),
        ("annotation overflowing number", j => j["annotations"] = new JsonObject { ["k"] = JsonNode.Parse("1e400") }, SegmentRejectReason.InvalidAnnotationValue, "$.annotations.k"),
        ("annotation overflowing negative number", j => j["annotations"] = new JsonObject { ["k"] = JsonNode.Parse("-1.5e309") }, SegmentRejectReason.InvalidAnnotationValue, "$.annotations.k"),
        ("overflowing start_time", j => j["start_time"] = JsonNode.Parse("1e400"), SegmentRejectReason.InvalidStartTime, "$.start_time"),
        ("overflowing end_time", j => j["end_time"] = JsonNode.Parse("9e99999"), SegmentRejectReason.InvalidEndTime, "$.end_time"),
        ("fractional http status", j => j["http"] = Response(JsonNode.Parse("200.5")), SegmentRejectReason.InvalidNumber, "$.http.response.status"),
        ("http status beyond int", j => j["http"] = Response(JsonNode.Parse("3000000000")), SegmentRejectReason.InvalidNumber, "$.http.response.status"),
        ("overflowing http status", j => j["http"] = Response(JsonNode.Parse("1e400")), SegmentRejectReason.InvalidNumber, "$.http.response.status"),
        ("overflowing content_length", j => j["http"] = Response(200, JsonNode.Parse("1e400")), SegmentRejectReason.InvalidNumber, "$.http.response.content_length"),
        ("fractional content_length", j => j["http"] = Response(200, JsonNode.Parse("10.25")), SegmentRejectReason.InvalidNumber, "$.http.response.content_length"),
        ("fractional deployment_id", j => j["aws"] = new JsonObject { ["elastic_beanstalk"] = new JsonObject { ["deployment_id"] = JsonNode.Parse("1.5") } }, SegmentRejectReason.InvalidNumber, "$.aws.elastic_beanstalk.deployment_id"),
        ("nested overflowing http status", j => j["subsegments"] = new JsonArray(Child(c => c["http"] = Response(JsonNode.Parse("-1e999")))), SegmentRejectReason.InvalidNumber, "$.subsegments[0].http.response.status"),
        ("nested bad annotation", j => j["subsegments"] = new JsonArray(Child(c => c["annotations"] = new JsonObject { ["a.b"] = 1 })), SegmentRejectReason.InvalidAnnotationKey, "$.subsegments[0].annotations['a.b']"),
    ];

    private static JsonObject Response(JsonNode? status, JsonNode? contentLength = null)
    {
        var response = new JsonObject { ["status"] = status };
        if (contentLength is not null)
        {
            response["content_length"] = contentLength;
        }

        return new JsonObject { ["response"] = response };
    }

    public static TheoryData<string> MutationNames() => [.. Mutations.Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(MutationNames))]
    public void Validate_SingleFieldMutation_RejectedWithReasonAndPath(string mutation)
    {
        var (_, mutate, reason, path) = Mutations.Single(m => m.Name == mutation);
        var json = SegmentBuilder.Segment("api", seed: 42, start: Now.AddMinutes(-1)).ToJsonObject();
        mutate(json);

        var result = SegmentValidator.ParseAndValidate(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()), Now);

        result.Rejection.Reason.Should().Be(reason);
        result.Rejection.Path.Should().Be(path);
    }

    [Property(MaxTest = 300)]
    public Property Validate_GeneratedValidSegment_IsAccepted() =>
        Prop.ForAll(SegmentGenerators.ValidSegment().ToArbitrary(), builder =>
        {
            var result = SegmentValidator.ParseAndValidate(builder.ToUtf8(), Now);
            return result.IsOk.Label(result.Rejection.ToString());
        });

    [Property(MaxTest = 300)]
    public Property Validate_AnySchemaBreakingMutationOfAValidSegment_RejectedWithItsReason() =>
        Prop.ForAll(
            SegmentGenerators.ValidSegment().ToArbitrary(),
            Gen.Choose(0, Mutations.Length - 1).ToArbitrary(),
            (builder, index) =>
            {
                var (name, mutate, reason, _) = Mutations[index];
                var json = builder.ToJsonObject();
                mutate(json);
                var result = SegmentValidator.ParseAndValidate(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()), Now);
                return (result.Rejection.Reason == reason).Label($"{name}: got {result.Rejection}");
            });

    /// <summary>
    /// Any number that overflows a double (X-Ray and Athena's JSON SerDe refuse it), written
    /// anywhere the validator reads a number or the archive's tables type one, is rejected with
    /// a reason; integers that fit are accepted in the integer-typed fields.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Validate_OverflowingNumberInAnyNumericField_IsRejectedWithAReason() =>
        Prop.ForAll(
            SegmentGenerators.ValidSegment().ToArbitrary(),
            OverflowingLiteral.ToArbitrary(),
            Gen.Choose(0, NumericSlots.Length - 1).ToArbitrary(),
            (builder, literal, slot) =>
            {
                var (name, place, reason) = NumericSlots[slot];
                var json = builder.ToJsonObject();
                place(json, JsonNode.Parse(literal));
                var result = SegmentValidator.ParseAndValidate(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()), Now);
                return (result.Rejection.Reason == reason).Label($"{name} = {literal}: got {result.Rejection}");
            });

    /// <summary>Number literals beyond ±1.8e308, with and without a sign and a fraction.</summary>
    private static readonly Gen<string> OverflowingLiteral =
        from sign in Gen.Elements("", "-")
        from mantissa in Gen.Choose(1, 9)
        from fraction in Gen.Elements("", ".5", ".25")
        from exponent in Gen.Choose(309, 5000)
        select $"{sign}{mantissa}{fraction}e{exponent}";

    [Property(MaxTest = 200)]
    public Property Validate_IntegerThatFitsInTheIntegerFields_IsAccepted() =>
        Prop.ForAll(
            SegmentGenerators.ValidSegment().ToArbitrary(),
            Gen.Choose(100, 599).ToArbitrary(),
            Gen.Choose(0, int.MaxValue).ToArbitrary(),
            (builder, status, length) =>
            {
                var json = builder.ToJsonObject();
                json["http"] = Response(status, (long)length * 4);
                json["aws"] = new JsonObject { ["elastic_beanstalk"] = new JsonObject { ["deployment_id"] = (long)length * 3 } };
                var result = SegmentValidator.ParseAndValidate(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()), Now);
                return result.IsOk.Label(result.Rejection.ToString());
            });

    private static readonly (string Name, Action<JsonObject, JsonNode?> Place, SegmentRejectReason Reason)[] NumericSlots =
    [
        ("start_time", (j, n) => j["start_time"] = n, SegmentRejectReason.InvalidStartTime),
        ("end_time", (j, n) => j["end_time"] = n, SegmentRejectReason.InvalidEndTime),
        ("annotation", (j, n) => j["annotations"] = new JsonObject { ["n"] = n }, SegmentRejectReason.InvalidAnnotationValue),
        ("http.response.status", (j, n) => j["http"] = Response(n), SegmentRejectReason.InvalidNumber),
        ("http.response.content_length", (j, n) => j["http"] = Response(200, n), SegmentRejectReason.InvalidNumber),
        ("aws.elastic_beanstalk.deployment_id", (j, n) => j["aws"] = new JsonObject { ["elastic_beanstalk"] = new JsonObject { ["deployment_id"] = n } }, SegmentRejectReason.InvalidNumber),
        ("subsegment annotation", (j, n) => j["subsegments"] = new JsonArray(Child(c => c["annotations"] = new JsonObject { ["n"] = n })), SegmentRejectReason.InvalidAnnotationValue),
        ("subsegment start_time", (j, n) => j["subsegments"] = new JsonArray(Child(c => c["start_time"] = n)), SegmentRejectReason.InvalidStartTime),
    ];

    [Theory]
    [InlineData("11111111")]
    [InlineData("00000001")]
    [InlineData("ffffffff")]
    public void Validate_ATraceIdWithARandomEpoch_IsValidForTheArchive(string prefix)
    {
        // A W3C trace id carried into an aws-xray-sdk service by the X-Ray propagator: its first 8
        // hex digits are random (here 1979, 1970, 2106). The archive keeps it; forwarding decides.
        var doc = SegmentBuilder.Segment(start: Now.AddMinutes(-1)).WithTraceId($"1-{prefix}-0f3c9a2b7d41e85c6a9b0d12").ToUtf8();

        SegmentValidator.ParseAndValidate(doc, Now).IsOk.Should().BeTrue();
    }

    [Theory]
    [InlineData("11111111")]
    [InlineData("ffffffff")]
    public void Validate_RequirePlausibleTraceEpoch_RejectsEpochsOutsideTheWindow(string prefix)
    {
        var doc = SegmentBuilder.Segment(start: Now.AddMinutes(-1)).WithTraceId($"1-{prefix}-0f3c9a2b7d41e85c6a9b0d12").ToUtf8();

        var result = SegmentValidator.ParseAndValidate(doc, Now, new ValidationOptions { RequirePlausibleTraceEpoch = true });

        result.Rejection.Reason.Should().Be(SegmentRejectReason.ImplausibleTraceEpoch);
    }

    [Fact]
    public void Validate_RequirePlausibleTraceEpoch_AcceptsAnEpochInTheWindow()
    {
        var doc = SegmentBuilder.Segment(start: Now.AddMinutes(-1)).WithTraceId($"1-{Now.AddHours(-2).ToUnixTimeSeconds():x8}-0f3c9a2b7d41e85c6a9b0d12").ToUtf8();

        SegmentValidator.ParseAndValidate(doc, Now, new ValidationOptions { RequirePlausibleTraceEpoch = true }).IsOk.Should().BeTrue();
    }

    [Fact]
    public void Validate_EndTimeAndInProgressFalse_IsAccepted()
    {
        var doc = SegmentBuilder.Segment(start: Now.AddMinutes(-1)).Set("in_progress", false).ToUtf8();

        SegmentValidator.ParseAndValidate(doc, Now).IsOk.Should().BeTrue();
    }

    [Fact]
    public void Validate_UppercaseHexTraceId_IsAccepted()
    {
        var doc = SegmentBuilder.Segment(start: Now.AddMinutes(-1)).WithTraceId("1-6A628D20-0F3C9A2B7D41E85C6A9B0D12").ToUtf8();

        SegmentValidator.ParseAndValidate(doc, Now).IsOk.Should().BeTrue();
    }

    [Fact]
    public void Validate_DuplicateTraceId_IsRejected()
    {
        var doc = """{"trace_id":"1-6925a3c0-0123456789abcdef01234567","id":"0123456789abcdef","name":"a","start_time":1,"end_time":2,"trace_id":"1-6925a3c0-ffffffffffffffffffffffff"}"""u8.ToArray();

        var rejection = SegmentValidator.ParseAndValidate(doc, Now).Rejection;

        rejection.Reason.Should().Be(SegmentRejectReason.DuplicateField);
        rejection.Path.Should().Be("$.trace_id");
    }

    [Fact]
    public void Validate_EscapedAnnotationKeyThatDecodesToValidCharacters_IsAccepted()
    {
        var doc = SegmentBuilder.Segment(start: Now.AddMinutes(-1)).ToJson().Replace("{\"trace_id\"", "{\"annotations\":{\"\\u0061b\":1},\"trace_id\"", StringComparison.Ordinal);

        var result = SegmentValidator.ParseAndValidate(System.Text.Encoding.UTF8.GetBytes(doc), Now);

        result.IsOk.Should().BeTrue(result.Rejection.ToString());
    }

    [Fact]
    public void Validate_TwoHundredCharacterUnicodeName_IsAccepted()
    {
        var doc = SegmentBuilder.Segment(new string('é', 200), start: Now.AddMinutes(-1)).ToUtf8();

        SegmentValidator.ParseAndValidate(doc, Now).IsOk.Should().BeTrue();
    }

    [Fact]
    public void ToCode_EveryReason_HasADistinctStableName()
    {
        var codes = Enum.GetValues<SegmentRejectReason>().Select(r => r.ToCode()).ToList();

        codes.Should().OnlyHaveUniqueItems().And.NotContain("unknown");
    }

    private static JsonObject Child(Action<JsonObject> mutate)
    {
        var child = SegmentBuilder.Embedded("child", seed: 9, start: Now.AddMinutes(-1)).ToJsonObject();
        mutate(child);
        return child;
    }
}
