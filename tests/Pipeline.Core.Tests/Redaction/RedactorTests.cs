using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Pipeline.Core.Redaction;
using Pipeline.Core.Segments;
using Pipeline.Testing.Builders;

namespace Pipeline.Core.Tests.Redaction;

public sealed class RedactorTests
{
    private static readonly Redactor Default = new(RedactionPolicy.Default);

    [Fact]
    public void Redact_CleanDocument_ReturnsTheSameMemoryWithoutRewrite()
    {
        var segment = Parse(SegmentBuilder.Segment().WithHttp("GET", "https://a.example.com/x", 200).WithAnnotation("tier", "gold").ToUtf8());

        var result = Default.Redact(segment);

        result.Rewritten.Should().BeFalse();
        result.Document.Equals(segment.Document).Should().BeTrue();
    }

    [Fact]
    public void Redact_SecretsEverywhere_MasksEachAndCountsThem()
    {
        var doc = SegmentBuilder.Segment()
            .WithHttp("GET", "https://u:hunter2@a.example.com/x?token=abc&page=2&X-Amz-Signature=deadbeef#frag", 200,
                new Dictionary<string, string> { ["Authorization"] = "Bearer xyz", ["Accept"] = "text/html", ["Cookie"] = "sid=1" })
            .WithAnnotation("session_token", "tok-1")
            .WithAnnotation("tier", "gold")
            .WithMetadata("app", "config", new System.Text.Json.Nodes.JsonObject { ["db_password"] = "pw-2", ["nested"] = new System.Text.Json.Nodes.JsonObject { ["x-api-key"] = "key-3" } })
            .WithSubsegment(SegmentBuilder.Embedded("db", seed: 4).WithSql("mysql://admin:pa55@db:3306/u", "MySQL", "SELECT a FROM t WHERE name = 'bob' AND age > 21 AND t2.c = $1"))
            .ToUtf8();

        var result = Default.Redact(Parse(doc));
        var text = Encoding.UTF8.GetString(result.Document.Span);

        result.Report.Should().Be(new RedactionReport(Headers: 2, QueryParameters: 2, Keys: 3, SqlLiterals: 2, UrlPasswords: 2));
        foreach (var secret in new[] { "hunter2", "abc", "deadbeef", "Bearer xyz", "sid=1", "tok-1", "pw-2", "key-3", "pa55", "'bob'", "21" })
        {
            text.Should().NotContain(secret);
        }

        text.Should().Contain("page=2").And.Contain("#frag").And.Contain("text/html").And.Contain("\"tier\":\"gold\"")
            .And.Contain("SELECT a FROM t WHERE name = ? AND age > ? AND t2.c = $1");
        SegmentValidator.ParseAndValidate(result.Document, SegmentBuilder.DefaultStart.AddHours(1)).IsOk.Should().BeTrue();
    }

    [Fact]
    public void Redact_RewrittenDocument_KeepsOtherValuesByteForByte()
    {
        var doc = """{"trace_id":"1-6925a3c0-0123456789abcdef01234567","id":"0123456789abcdef","name":"caf\u00e9","start_time":1.764064800123E9,"end_time":1764064801,"annotations":{"password":1}}"""u8.ToArray();

        var result = Default.Redact(doc);

        Encoding.UTF8.GetString(result.Document.Span).Should().Be(
            """{"trace_id":"1-6925a3c0-0123456789abcdef01234567","id":"0123456789abcdef","name":"caf\u00e9","start_time":1.764064800123E9,"end_time":1764064801,"annotations":{"password":"REDACTED"}}""");
    }

    [Fact]
    public void Redact_NonePolicy_NeverRewrites()
    {
        var doc = SegmentBuilder.Segment().WithAnnotation("password", "x").ToUtf8();

        new Redactor(RedactionPolicy.None).Redact(Parse(doc)).Rewritten.Should().BeFalse();
    }

    [Fact]
    public void Redact_CustomKeyPattern_MasksMatchingMetadataKey()
    {
        var redactor = new Redactor(RedactionPolicy.None with { KeyPatterns = ["ssn*"], Mask = "***" });
        var doc = SegmentBuilder.Segment().WithMetadata("default", "SSN_last", "1234").ToUtf8();

        var result = redactor.Redact(Parse(doc));

        Encoding.UTF8.GetString(result.Document.Span).Should().Contain("\"SSN_last\":\"***\"");
        result.Report.Keys.Should().Be(1);
    }

    [Fact]
    public void Redact_NotJson_ReturnsInputUnchanged()
    {
        var bytes = "{not json"u8.ToArray();

        Default.Redact(bytes).Document.ToArray().Should().Equal(bytes);
    }

    private static readonly string[] Secrets = ["s3cr3t", "hunter22", "AKIAEXAMPLE", "tok_live_1"];

    [Property(MaxTest = 200)]
    public Property Redact_IsIdempotentAndLeavesNoListedSecret() =>
        Prop.ForAll(
            (from secret in Gen.Elements(Secrets)
             from parameter in Gen.Elements("token", "password", "X-Amz-Credential", "api_key", "page")
             from header in Gen.Elements("Authorization", "Cookie", "X-Api-Key", "Accept")
             from key in Gen.Elements("db_password", "client_secret", "refresh_token", "plain")
             select (secret, parameter, header, key)).ToArbitrary(),
            t =>
            {
                var (secret, parameter, header, key) = t;
                var doc = SegmentBuilder.Segment()
                    .WithHttp("GET", $"https://a.example.com/p?{parameter}={secret}&q=1", 200, new Dictionary<string, string> { [header] = secret })
                    .WithAnnotation(key, secret)
                    .WithMetadata("ns", key, new System.Text.Json.Nodes.JsonArray(secret))
                    .ToUtf8();
                var once = Default.Redact(Parse(doc));
                var twice = Default.Redact(Parse(once.Document.ToArray()));
                var text = Encoding.UTF8.GetString(once.Document.Span);
                var listed = new[] { parameter != "page", header != "Accept", key != "plain" };
                var secretLeft = text.Contains(secret, StringComparison.Ordinal);
                var anyUnlisted = listed.Any(l => !l);
                return (twice.Document.Span.SequenceEqual(once.Document.Span) && !twice.Rewritten && (anyUnlisted || !secretLeft))
                    .Label($"once={text} twice-rewritten={twice.Rewritten}");
            });

    [Property(MaxTest = 300)]
    public Property Redact_ParsedSegmentFastPath_AgreesWithTheFullWalk() =>
        Prop.ForAll(
            (from secret in Gen.Elements(Secrets)
             from parameter in Gen.Elements("token", "page", "Sig")
             from header in Gen.Elements("cookie", "Accept")
             from key in Gen.Elements("db_password", "plain", "AUTHORIZATION")
             from placement in Gen.Choose(0, 7)
             from sql in Gen.Elements("SELECT 1", "SELECT a FROM t1 WHERE b = $1", "x = 'y'")
             select (secret, parameter, header, key, placement, sql)).ToArbitrary(),
            t =>
            {
                var (secret, parameter, header, key, placement, sql) = t;
                var child = SegmentBuilder.Embedded("db", seed: 5).WithSql("postgresql://u@db/app", "PostgreSQL", sql);
                if ((placement & 1) != 0)
                {
                    child.WithAnnotation(key, secret);
                }

                var builder = SegmentBuilder.Segment()
                    .WithHttp("GET", $"https://a/p?{parameter}={secret}", 200, (placement & 2) != 0 ? new Dictionary<string, string> { [header] = secret } : null)
                    .WithSubsegment(child);
                if ((placement & 4) != 0)
                {
                    builder.WithMetadata("ns", "outer", new System.Text.Json.Nodes.JsonObject { [key] = secret });
                }

                var doc = builder.ToUtf8();
                var fast = Default.Redact(Parse(doc));
                var full = Default.Redact(doc);
                return (fast.Document.Span.SequenceEqual(full.Document.Span) && fast.Report == full.Report).Label(Encoding.UTF8.GetString(doc));
            });

    [Fact]
    public void Redact_OutputOfRewrite_IsValidJson()
    {
        var doc = SegmentBuilder.Segment().WithHttp("GET", "https://a/p?token=\"quoted\"", 200).ToUtf8();

        var result = Default.Redact(Parse(doc));

        result.Rewritten.Should().BeTrue();
        var act = () => JsonDocument.Parse(result.Document).Dispose();
        act.Should().NotThrow();
    }

    private static ParsedSegment Parse(byte[] doc) => SegmentParser.Parse(doc).Segment ?? throw new InvalidOperationException("test document does not parse");
}
