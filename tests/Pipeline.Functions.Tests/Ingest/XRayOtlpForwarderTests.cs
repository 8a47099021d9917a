using System.Net;
using Pipeline.Aws.XRay;
using Pipeline.Core.Otlp;
using Pipeline.Functions.Ingest;
using Pipeline.Testing.Builders;

namespace Pipeline.Functions.Tests.Ingest;

public sealed class XRayOtlpForwarderTests
{
    private static readonly DateTimeOffset Now = SegmentBuilder.DefaultStart.AddMinutes(30);
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;

    [Fact]
    public void Split_AtTheSpanLimit_EverySpanOnceUnderItsOwnResourceAndScope()
    {
        var spans = Spans(25, services: 3);

        var requests = XRayOtlpForwarder.Split(spans, maxSpans: 10);

        requests.Select(r => r.Spans.Count).Should().Equal(10, 10, 5);
        var sent = requests.SelectMany(r => Decode(r.Request)).ToList();
        sent.Select(s => Convert.ToHexString(s.Span.SpanId)).Should().BeEquivalentTo(spans.Select(s => Convert.ToHexString(s.Span.SpanId)));
        foreach (var (resource, scope, span) in sent)
        {
            var original = spans.Single(s => s.Span.SpanId.AsSpan().SequenceEqual(span.SpanId));
            resource.Resource.Attributes.Should().Equal(original.Resource.Resource.Attributes);
            scope.Scope.Name.Should().Be(original.Scope.Scope.Name);
            scope.Scope.Version.Should().Be(original.Scope.Scope.Version);
        }
    }

    [Fact]
    public void Split_TenThousandAndOneSpans_TwoRequestsWithinTheEndpointsLimits()
    {
        var spans = Spans(10_001, services: 1);

        var requests = XRayOtlpForwarder.Split(spans);

        requests.Select(r => r.Spans.Count).Should().Equal(10_000, 1);
        requests.Should().OnlyContain(r => r.Request.Length <= XRayOtlpLimits.MaxRequestBytes);
    }

    [Fact]
    public void Split_AtTheByteLimit_EachRequestFitsAndNoSpanIsLost()
    {
        const int limit = 40 * 1024;
        var spans = Spans(60, services: 2, attributeBytes: 2_000);

        var requests = XRayOtlpForwarder.Split(spans, maxBytes: limit);

        requests.Count.Should().BeGreaterThan(3);
        requests.Should().OnlyContain(r => r.Request.Length <= limit);
        requests.Sum(r => Decode(r.Request).Count).Should().Be(60);
    }

    [Fact]
    public void Split_SpansOverMoreThanADay_NeverShareARequest()
    {
        var early = Spans(2, services: 1);
        var late = Spans(2, services: 1, seed: 9, start: SegmentBuilder.DefaultStart.AddHours(25));

        var requests = XRayOtlpForwarder.Split([.. late, .. early]);

        requests.Select(r => r.Spans.Count).Should().Equal(2, 2);
        requests[0].Spans.Should().BeEquivalentTo(early);
    }

    [Fact]
    public async Task Send_PartialSuccess_IsCountedNotResentNorParked()
    {
        var endpoint = new FakeXRayOtlp().ThenPartial(2, "2 spans had invalid attributes");
        var messages = new List<string>();

        var result = await new XRayOtlpForwarder(endpoint).SendAsync(Spans(5, services: 1), Now, () => true, messages.Add, _ct);

        endpoint.Requests.Should().ContainSingle();
        result.Sent.Should().Be(5);
        result.Rejected.Should().Be(2);
        result.Parked.Should().BeEmpty();
        result.Outage.Should().BeFalse();
        messages.Should().ContainSingle().Which.Should().Contain("2 spans had invalid attributes");
    }

    [Fact]
    public async Task Send_RequestRefusedAsBadRequest_CountedAndTheRestStillSent()
    {
        var endpoint = new FakeXRayOtlp().ThenFail(HttpStatusCode.BadRequest, "InvalidRequest");
        var spans = Spans(15, services: 1);

        var result = await new XRayOtlpForwarder(endpoint, maxSpansPerRequest: 10).SendAsync(spans, Now, () => true, null, _ct);

        endpoint.Requests.Should().HaveCount(2);
        result.Rejected.Should().Be(10);
        result.Sent.Should().Be(5);
        result.Parked.Should().BeEmpty();
    }

    [Fact]
    public async Task Send_FailureAfterTheClientsRetries_IsAnOutage_ThisAndTheRestParkedInInputOrder()
    {
        var endpoint = new FakeXRayOtlp().Then(_ => default).ThenFail(HttpStatusCode.ServiceUnavailable);
        var spans = Spans(25, services: 2);

        var result = await new XRayOtlpForwarder(endpoint, maxSpansPerRequest: 10).SendAsync(spans, Now, () => true, null, _ct);

        endpoint.Requests.Should().HaveCount(2, "nothing more is sent after a failure");
        result.Outage.Should().BeTrue();
        result.Sent.Should().Be(10);
        result.Parked.Should().HaveCount(15);
        result.Parked.Should().Equal(spans.Where(s => result.Parked.Contains(s)), "parked spans keep the input order");
        var taken = endpoint.Accepted.Select(a => Convert.ToHexString(a.SpanId)).ToHashSet();
        var parked = result.Parked.Select(p => Convert.ToHexString(p.Span.SpanId)).ToHashSet();
        taken.Should().NotIntersectWith(parked);
        taken.Union(parked).Should().BeEquivalentTo(spans.Select(s => Convert.ToHexString(s.Span.SpanId)), "every span is either taken or parked");
    }

    [Fact]
    public async Task Send_AccessDenied_IsAnOutageToo_TheOperatorCanFixItAndReplay()
    {
        var endpoint = new FakeXRayOtlp().ThenFail(HttpStatusCode.Forbidden, "AccessDeniedException");

        var result = await new XRayOtlpForwarder(endpoint).SendAsync(Spans(3, services: 1), Now, () => true, null, _ct);

        result.Outage.Should().BeTrue();
        result.Parked.Should().HaveCount(3);
    }

    [Fact]
    public async Task Send_DeadlineNear_ParksEverythingUnsent()
    {
        var endpoint = new FakeXRayOtlp();

        var result = await new XRayOtlpForwarder(endpoint).SendAsync(Spans(4, services: 1), Now, () => false, null, _ct);

        endpoint.Requests.Should().BeEmpty();
        result.Parked.Should().HaveCount(4);
        result.Outage.Should().BeFalse();
    }

    [Fact]
    public async Task Send_SpansTheEndpointsLimitsRefuse_AreCountedNeverSent()
    {
        var ok = Spans(1, services: 1);
        var old = Spans(1, services: 1, seed: 3, start: Now - TimeSpan.FromDays(15));
        var ahead = Spans(1, services: 1, seed: 4, start: Now + TimeSpan.FromHours(3));
        var huge = Spans(1, services: 1, seed: 5, attributeBytes: XRayOtlpLimits.MaxSpanBytes + 1);
        var endpoint = new FakeXRayOtlp();
        var messages = new List<string>();

        var result = await new XRayOtlpForwarder(endpoint).SendAsync([.. ok, .. old, .. ahead, .. huge], Now, () => true, messages.Add, _ct);

        result.Unsendable.Should().Be(3);
        endpoint.Accepted.Should().ContainSingle().Which.SpanId.Should().Equal(ok[0].Span.SpanId);
        messages.Should().Contain(m => m.Contains("too_old")).And.Contain(m => m.Contains("too_far_ahead")).And.Contain(m => m.Contains("span_too_large"));
        result.Parked.Should().BeEmpty("a resend could never succeed");
    }

    [Fact]
    public void UnsendableReason_ResourceWithScopeOver16KB()
    {
        var span = Spans(1, services: 1)[0];
        span.Resource.Resource.Attributes.Add(new OtlpKeyValue("big", OtlpValue.FromString(new string('r', XRayOtlpLimits.MaxResourceAndScopeBytes))));

        XRayOtlpForwarder.UnsendableReason(span, Now).Should().Be("resource_too_large");
    }

    /// <summary><paramref name="count"/> spans of one trace spread over <paramref name="services"/> resources, 1 ms apart.</summary>
    internal static List<OtlpForwardSpan> Spans(int count, int services, int seed = 1, DateTimeOffset? start = null, int attributeBytes = 0)
    {
        var trace = OtlpTraceBuilder.Trace("service-0", seed, start ?? SegmentBuilder.DefaultStart, randomTraceId: true);
        for (var s = 1; s < services; s++)
        {
            trace.Service($"service-{s}", $"scope-{s}");
        }

        var request = trace.Build();
        var resources = request.ResourceSpans;
        for (var i = 0; i < count; i++)
        {
            var resource = resources[i % resources.Count];
            var span = new OtlpSpan
            {
                TraceId = trace.TraceId,
                SpanId = trace.NewSpanId(),
                Name = $"op-{i}",
                Kind = (int)OtlpSpanKind.Server,
                StartTimeUnixNano = trace.Nanos(i),
                EndTimeUnixNano = trace.Nanos(i + 0.5),
            };
            if (attributeBytes > 0)
            {
                span.Attributes.Add(new OtlpKeyValue("payload", OtlpValue.FromString(new string('x', attributeBytes))));
            }

            resource.ScopeSpans[0].Spans.Add(span);
        }

        return [.. resources.SelectMany(r => r.ScopeSpans.SelectMany(s => s.Spans.Select(span => new OtlpForwardSpan(r, s, span))))
            .OrderBy(s => s.Span.StartTimeUnixNano)];
    }

    internal static List<OtlpForwardSpan> Decode(byte[] request)
    {
        var decoded = OtlpProtobufDecoder.Decode(request);
        decoded.IsOk.Should().BeTrue();
        return [.. decoded.Request!.ResourceSpans.SelectMany(r => r.ScopeSpans.SelectMany(s => s.Spans.Select(span => new OtlpForwardSpan(r, s, span))))];
    }
}
