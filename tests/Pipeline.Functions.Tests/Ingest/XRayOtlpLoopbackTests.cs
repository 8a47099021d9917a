using System.Text.RegularExpressions;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Core.Otlp;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Pipeline.Testing.Builders;

namespace Pipeline.Functions.Tests.Ingest;

/// <summary>
/// XRAY_FORWARD=otlp end to end over real HTTP: the ingest handler with the signed clients built from
/// the environment (AWS_ENDPOINT_URL_XRAY pointing at a loopback OTLP sink), checked on the wire.
/// </summary>
public sealed partial class XRayOtlpLoopbackTests
{
    [Fact]
    public async Task Ingest_OtlpMode_SignsForXRayAndPostsTheKeptSpansAsProtobuf_ThrottlingRetried()
    {
        var answers = 0;
        // Throttled once, then taken with one span rejected: partial_success { rejected_spans: 1, error_message: "bad" }.
        await using var sink = LoopbackHttpStub.Start(_ => Interlocked.Increment(ref answers) == 1
            ? new StubResponse(429, string.Empty, "application/x-protobuf")
            : new StubResponse(200, "\n\a\b\u0001\u0012\u0003bad", "application/x-protobuf"));
        var settings = AwsSettings.FromEnvironment(new DictionaryEnvironment
        {
            [AwsSettings.RegionVariable] = "eu-west-1",
            [AwsSettings.AccessKeyIdVariable] = "AKIDLOOPBACK",
            [AwsSettings.SecretAccessKeyVariable] = "loopback-secret",
            [AwsSettings.ServiceEndpointUrlVariablePrefix + "XRAY"] = sink.Endpoint.ToString(),
        });
        using var clients = SignedAwsClients.Create(settings);
        var harness = new IngestHarness(rate: 1.0, otlp: clients.XRayOtlp);
        var otel = OtlpTraceBuilder.Trace("service-c", seed: 91, randomTraceId: true);
        var server = otel.Span("GET /orders", OtlpSpanKind.Server).With("http.request.method", "GET").With("http.response.status_code", 200L);
        otel.Span("SELECT orders", OtlpSpanKind.Client, server).With("db.system", "postgresql");
        otel.Span("publish", OtlpSpanKind.Producer, server).WithStatus(OtlpStatusCode.Error, "broker down");

        var failures = await harness.RunAsync(IngestHarness.Batch([OtlpRecord.Create(otel.ToProtobuf())], 0, 1));

        failures.Should().BeEmpty();
        sink.Requests.Should().HaveCount(2, "the 429 is retried by the client's backoff");
        foreach (var request in sink.Requests)
        {
            request.Method.Should().Be("POST");
            request.Path.Should().Be("/v1/traces");
            request.Header("Content-Type").Should().Be("application/x-protobuf");
            var authorization = request.Header("Authorization");
            authorization.Should().NotBeNull();
            var scope = CredentialScope().Match(authorization!);
            scope.Success.Should().BeTrue(authorization);
            scope.Groups["key"].Value.Should().Be("AKIDLOOPBACK");
            scope.Groups["region"].Value.Should().Be("eu-west-1");
            scope.Groups["service"].Value.Should().Be("xray");
            authorization.Should().Contain("SignedHeaders=").And.Contain("content-type").And.Contain("host").And.Contain("x-amz-date");
            request.Header("X-Amz-Content-SHA256").Should().Be(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(request.Body)));
        }

        var decoded = OtlpProtobufDecoder.Decode(sink.Requests[^1].Body);
        decoded.IsOk.Should().BeTrue();
        var original = otel.Build().ResourceSpans.Single();
        var sent = decoded.Request!.ResourceSpans.Should().ContainSingle().Subject;
        sent.Resource.Attributes.Should().Equal(original.Resource.Attributes);
        var scopeSpans = sent.ScopeSpans.Should().ContainSingle().Subject;
        (scopeSpans.Scope.Name, scopeSpans.Scope.Version).Should().Be((original.ScopeSpans[0].Scope.Name, original.ScopeSpans[0].Scope.Version));
        scopeSpans.Spans.Should().HaveCount(3);
        foreach (var (got, want) in scopeSpans.Spans.Zip(original.ScopeSpans[0].Spans.OrderBy(s => s.StartTimeUnixNano)))
        {
            got.TraceId.Should().Equal(want.TraceId);
            got.SpanId.Should().Equal(want.SpanId);
            got.ParentSpanId.Should().Equal(want.ParentSpanId);
            got.Name.Should().Be(want.Name);
            got.Kind.Should().Be(want.Kind);
            (got.StartTimeUnixNano, got.EndTimeUnixNano).Should().Be((want.StartTimeUnixNano, want.EndTimeUnixNano));
            got.Status.Should().Be(want.Status);
            got.Attributes.Should().Equal(want.Attributes);
        }

        var emf = harness.LastEmf();
        emf.GetProperty("XRayOtlpRequests").GetInt64().Should().Be(1);
        emf.GetProperty("XRayOtlpSpansSent").GetInt64().Should().Be(2);
        emf.GetProperty("XRayOtlpSpansRejected").GetInt64().Should().Be(1);
        emf.GetProperty("XRayOtlpSpansParked").GetInt64().Should().Be(0, "a partial success is not resent");
    }

    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=(?<key>[^/]+)/\d{8}/(?<region>[^/]+)/(?<service>[^/]+)/aws4_request, ")]
    private static partial Regex CredentialScope();
}
