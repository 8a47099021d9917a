using System.Net;
using System.Text;
using Relay.Http;
using Relay.Http.Http2;
using Relay.Logging;
using Relay.Tests.Support;

namespace Relay.Tests.Http.Http2;

/// <summary>
/// The HTTP/2 session behind an <see cref="HttpServer"/> listener, driven frame by frame: a valid
/// exchange, then hostile input — each refusal is the frame RFC 9113 prescribes, is counted, and the
/// listener keeps serving the next client.
/// </summary>
public sealed class Http2SessionTests : IAsyncDisposable
{
    private readonly Http2Metrics _metrics = new("test_http2");
    private readonly List<Http2Request> _requests = [];
    private HttpServer? _server;

    /// <summary>What the handler does; by default it answers 200 with the body length and a trailer.</summary>
    private Func<Http2Request, CancellationToken, Task<Http2Response>> _handle = (request, _) => Task.FromResult(new Http2Response(
        200, [("content-type", "text/plain")], Encoding.ASCII.GetBytes(request.BodyTooLarge ? "too-large" : request.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)), [("x-trailer", "done")]));

    private IPEndPoint Start(Http2Limits? limits = null)
    {
        limits ??= new Http2Limits();
        _server = new HttpServer("h2", new IPEndPoint(IPAddress.Loopback, 0), (_, _) => Task.FromResult(HttpResponse.Text(426, "h2 only\n")), new HttpListenerLimits(), new HttpServerMetrics("h2"), JsonLog.Null, TimeProvider.System,
            connection =>
            {
                var session = new Http2Session(connection, limits, _metrics, (request, token) =>
                {
                    lock (_requests)
                    {
                        _requests.Add(request with { Body = request.Body.ToArray() });
                    }

                    return _handle(request, token);
                }, JsonLog.Null, TimeProvider.System);
                return RunAsync(session);
            });
        _server.Start();
        return _server.LocalEndpoint;

        static async Task RunAsync(Http2Session session)
        {
            using (session)
            {
                await session.RunAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A fresh connection still gets a full answer (the listener survived whatever came before).</summary>
    private static async Task ShouldStillServe(IPEndPoint endpoint)
    {
        await using var client = await Http2TestClient.ConnectAsync(endpoint);
        await client.SendRequestAsync(1, Http2TestClient.RequestBlock("/ok"), new byte[10]);
        var response = await client.ReadResponseAsync(1);
        response.Header(":status").Should().Be("200");
        Encoding.ASCII.GetString(response.Data).Should().Be("10");
    }

    [Fact]
    public async Task Request_WithABodyOverSeveralFrames_IsAnsweredWithHeadersDataAndTrailers()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendRequestAsync(1, Http2TestClient.RequestBlock("/echo", extra: [("x-request", "one")]), new byte[40_000]);
        var response = await client.ReadResponseAsync(1);

        response.Headers.Should().Contain((":status", "200")).And.Contain(("content-type", "text/plain"));
        Encoding.ASCII.GetString(response.Data).Should().Be("40000");
        response.Trailers.Should().Equal(("x-trailer", "done"));
        var request = _requests.Should().ContainSingle().Subject;
        (request.Method, request.Path, request.Header("x-request")).Should().Be(("POST", "/echo", "one"));
        _metrics.Streams.Should().Be(1);
        _metrics.Connections.Should().Be(1);
    }

    [Fact]
    public async Task Streams_OnOneConnection_AreServedConcurrentlyAndInAnyOrder()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        // Interleave two streams' frames.
        await client.SendAsync(Http2FrameType.Headers, Http2Wire.FlagEndHeaders, 1, Http2TestClient.RequestBlock("/a"));
        await client.SendAsync(Http2FrameType.Headers, Http2Wire.FlagEndHeaders, 3, Http2TestClient.RequestBlock("/b"));
        await client.SendAsync(Http2FrameType.Data, Http2Wire.FlagEndStream, 3, new byte[3]);
        await client.SendAsync(Http2FrameType.Data, Http2Wire.FlagEndStream, 1, new byte[1]);

        var bodies = new Dictionary<int, string>();
        for (var i = 0; i < 2; i++)
        {
            var frame = await client.ReadUntilAsync(f => f.Type == Http2FrameType.Data);
            bodies[frame!.StreamId] = Encoding.ASCII.GetString(frame.Payload);
        }

        bodies.Should().Equal(new Dictionary<int, string> { [1] = "1", [3] = "3" });
    }

    [Fact]
    public async Task Ping_IsAcknowledgedWithItsPayload()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.Ping, 0, 0, "12345678"u8);
        var ack = await client.ReadUntilAsync(f => f.Type == Http2FrameType.Ping);

        ack!.Flags.Should().Be(Http2Wire.FlagAck);
        ack.Payload.Should().Equal("12345678"u8.ToArray());
    }

    [Fact]
    public async Task Preface_Wrong_IsAnsweredWithGoAwayAndCounted()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint, handshake: false);

        await client.WriteAsync("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"u8.ToArray());
        var goAway = await client.ReadGoAwayAsync();

        goAway!.ErrorCode.Should().Be(Http2ErrorCode.ProtocolError);
        _metrics.Refused(Http2Refusal.BadPreface).Should().Be(1);
        await ShouldStillServe(endpoint);
    }

    [Fact]
    public async Task Frame_LongerThanMaxFrameSize_IsAFrameSizeError()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.Headers, Http2Wire.FlagEndHeaders, 1, Http2TestClient.RequestBlock("/big"));
        await client.SendAsync(Http2FrameType.Data, 0, 1, new byte[Http2Wire.DefaultMaxFrameSize + 1]);
        var goAway = await client.ReadGoAwayAsync();

        goAway!.ErrorCode.Should().Be(Http2ErrorCode.FrameSizeError);
        (await client.ClosedAsync()).Should().BeTrue();
        _metrics.Refused(Http2Refusal.FrameSize).Should().Be(1);
        await ShouldStillServe(endpoint);
    }

    [Theory]
    [InlineData(new byte[] { 4, 1, 2, 3 })]  // pad length 4 in a 4-byte payload
    [InlineData(new byte[] { 9 })]           // pad length past the payload
    [InlineData(new byte[0])]                // no room for the pad length
    public async Task Data_WithPaddingAsLongAsThePayload_IsAProtocolError(byte[] payload)
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.Headers, Http2Wire.FlagEndHeaders, 1, Http2TestClient.RequestBlock("/pad"));
        await client.SendAsync(Http2FrameType.Data, Http2Wire.FlagPadded, 1, payload);
        var goAway = await client.ReadGoAwayAsync();

        goAway!.ErrorCode.Should().Be(Http2ErrorCode.ProtocolError);
        _metrics.Refused(Http2Refusal.BadPadding).Should().Be(1);
        _requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Data_WithValidPadding_KeepsOnlyTheData()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.Headers, Http2Wire.FlagEndHeaders, 1, Http2TestClient.RequestBlock("/pad"));
        await client.SendAsync(Http2FrameType.Data, Http2Wire.FlagPadded | Http2Wire.FlagEndStream, 1, [3, 7, 7, 0, 0, 0]);
        var response = await client.ReadResponseAsync(1);

        Encoding.ASCII.GetString(response.Data).Should().Be("2");
    }

    [Fact]
    public async Task Continuation_Flood_IsRefusedAfterItsBound()
    {
        var limits = new Http2Limits { MaxContinuationFrames = 8 };
        var endpoint = Start(limits);
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.Headers, 0, 1, Http2TestClient.RequestBlock("/flood"));
        for (var i = 0; i < 50; i++)
        {
            await client.SendAsync(Http2FrameType.Continuation, 0, 1, []);
        }

        var goAway = await client.ReadGoAwayAsync();

        goAway!.ErrorCode.Should().Be(Http2ErrorCode.EnhanceYourCalm);
        _metrics.Refused(Http2Refusal.HeaderBlockTooLarge).Should().Be(1);
        await ShouldStillServe(endpoint);
    }

    [Fact]
    public async Task Continuation_PastTheHeaderBlockBound_IsRefused()
    {
        var endpoint = Start(new Http2Limits { MaxHeaderBlockBytes = 4096 });
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.Headers, 0, 1, Http2TestClient.RequestBlock("/flood"));
        await client.SendAsync(Http2FrameType.Continuation, 0, 1, new byte[4096]);
        var goAway = await client.ReadGoAwayAsync();

        goAway!.ErrorCode.Should().Be(Http2ErrorCode.EnhanceYourCalm);
        _metrics.Refused(Http2Refusal.HeaderBlockTooLarge).Should().Be(1);
    }

    [Fact]
    public async Task Frame_BetweenHeadersAndContinuation_IsAProtocolError()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.Headers, 0, 1, Http2TestClient.RequestBlock("/x"));
        await client.SendAsync(Http2FrameType.Ping, 0, 0, new byte[8]);
        var goAway = await client.ReadGoAwayAsync();

        goAway!.ErrorCode.Should().Be(Http2ErrorCode.ProtocolError);
        _metrics.Refused(Http2Refusal.Protocol).Should().Be(1);
    }

    [Fact]
    public async Task HeaderBlock_ThatDoesNotDecode_IsACompressionError()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.Headers, Http2Wire.FlagEndHeaders | Http2Wire.FlagEndStream, 1, [0xbe]);
        var goAway = await client.ReadGoAwayAsync();

        goAway!.ErrorCode.Should().Be(Http2ErrorCode.CompressionError);
        _metrics.Refused(Http2Refusal.Compression).Should().Be(1);
    }

    [Fact]
    public async Task WindowUpdate_PastTheLargestConnectionWindow_IsAFlowControlError()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.WindowUpdate, 0, 0, Http2TestClient.WindowUpdate(int.MaxValue));
        var goAway = await client.ReadGoAwayAsync();

        goAway!.ErrorCode.Should().Be(Http2ErrorCode.FlowControlError);
        _metrics.Refused(Http2Refusal.FlowControl).Should().Be(1);
        await ShouldStillServe(endpoint);
    }

    [Fact]
    public async Task WindowUpdate_PastTheLargestStreamWindow_ResetsOnlyThatStream()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.Headers, Http2Wire.FlagEndHeaders, 1, Http2TestClient.RequestBlock("/open"));
        await client.SendAsync(Http2FrameType.WindowUpdate, 0, 1, Http2TestClient.WindowUpdate(int.MaxValue));
        var reset = await client.ReadUntilAsync(f => f.Type == Http2FrameType.RstStream);
        await client.SendRequestAsync(3, Http2TestClient.RequestBlock("/next"), new byte[5]);
        var next = await client.ReadResponseAsync(3);

        (reset!.StreamId, reset.ErrorCode).Should().Be((1, Http2ErrorCode.FlowControlError));
        Encoding.ASCII.GetString(next.Data).Should().Be("5");
        _metrics.Refused(Http2Refusal.FlowControl).Should().Be(1);
    }

    [Fact]
    public async Task WindowUpdate_OfZero_IsAProtocolError()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.WindowUpdate, 0, 0, Http2TestClient.WindowUpdate(0));

        (await client.ReadGoAwayAsync())!.ErrorCode.Should().Be(Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public async Task Data_PastTheConnectionWindow_IsAFlowControlError()
    {
        // The connection window comes back only when a handler finishes, so a client that ignores it is cut off.
        var endpoint = Start(new Http2Limits { ConnectionWindowBytes = Http2Wire.DefaultWindowSize, StreamWindowBytes = Http2Wire.DefaultWindowSize * 4 });
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.Headers, Http2Wire.FlagEndHeaders, 1, Http2TestClient.RequestBlock("/flow"));
        for (var i = 0; i < 5; i++)
        {
            await client.SendAsync(Http2FrameType.Data, 0, 1, new byte[Http2Wire.DefaultMaxFrameSize]);
        }

        (await client.ReadGoAwayAsync())!.ErrorCode.Should().Be(Http2ErrorCode.FlowControlError);
        _metrics.Refused(Http2Refusal.FlowControl).Should().Be(1);
    }

    [Fact]
    public async Task Settings_InitialWindowSizePastTheLargest_IsAFlowControlError()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.Settings, 0, 0, [0, 4, 0x80, 0, 0, 0]);

        (await client.ReadGoAwayAsync())!.ErrorCode.Should().Be(Http2ErrorCode.FlowControlError);
    }

    [Fact]
    public async Task Ping_Flood_IsCutOffAtTheControlFrameBound()
    {
        var endpoint = Start(new Http2Limits { MaxControlFramesPerRequest = 20 });
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        for (var i = 0; i < 100; i++)
        {
            await client.SendAsync(Http2FrameType.Ping, 0, 0, new byte[8]);
        }

        (await client.ReadGoAwayAsync())!.ErrorCode.Should().Be(Http2ErrorCode.EnhanceYourCalm);
        _metrics.Refused(Http2Refusal.ControlFlood).Should().Be(1);
        await ShouldStillServe(endpoint);
    }

    [Fact]
    public async Task Streams_PastTheConcurrencyBound_AreRefusedAndRapidResetDoesNotLiftIt()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        _handle = async (_, _) =>
        {
            // A handler that does not watch its token (the OTLP intake is synchronous) keeps running after the reset.
            Interlocked.Increment(ref started);
            await release.Task.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
            return new Http2Response(200, [], ReadOnlyMemory<byte>.Empty, null);
        };
        var endpoint = Start(new Http2Limits { MaxConcurrentStreams = 2 });
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        // Open and reset at once, again and again: the handlers still run, so they still count.
        for (var id = 1; id <= 11; id += 2)
        {
            await client.SendAsync(Http2FrameType.Headers, Http2Wire.FlagEndHeaders | Http2Wire.FlagEndStream, id, Http2TestClient.RequestBlock("/slow"));
            await client.SendAsync(Http2FrameType.RstStream, 0, id, Http2TestClient.WindowUpdate((uint)Http2ErrorCode.Cancel));
        }

        // A PING answered means every frame before it was handled.
        await client.SendAsync(Http2FrameType.Ping, 0, 0, "barrier!"u8);
        var refused = new List<int>();
        await client.ReadUntilAsync(f =>
        {
            if (f.Type == Http2FrameType.RstStream && f.ErrorCode == Http2ErrorCode.RefusedStream)
            {
                refused.Add(f.StreamId);
            }

            return f.Type == Http2FrameType.Ping;
        });
        await TestRelay.WaitUntilAsync(() => Volatile.Read(ref started) >= 2);

        refused.Should().Equal(5, 7, 9, 11);
        started.Should().Be(2, "reset streams whose handlers still run keep their slot");
        _metrics.Refused(Http2Refusal.TooManyStreams).Should().Be(4);
        release.TrySetResult();
        _metrics.ResetsReceived.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task HeaderList_PastItsBound_IsAnswered431()
    {
        var endpoint = Start(new Http2Limits { MaxHeaderListBytes = 2048 });
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendRequestAsync(1, Http2TestClient.RequestBlock("/big-headers", extra: [("x-big", new string('h', 3000))]), []);
        var response = await client.ReadResponseAsync(1);

        response.Header(":status").Should().Be("431");
        _metrics.Refused(Http2Refusal.HeaderListTooLarge).Should().Be(1);
        _requests.Should().BeEmpty();
        await client.SendRequestAsync(3, Http2TestClient.RequestBlock("/next"), new byte[2]);
        Encoding.ASCII.GetString((await client.ReadResponseAsync(3)).Data).Should().Be("2");
    }

    [Theory]
    [InlineData("Upper-Case")]
    [InlineData("connection")]
    public async Task Request_WithAForbiddenFieldName_IsResetAsMalformed(string name)
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendRequestAsync(1, Http2TestClient.RequestBlock("/x", extra: [(name, "v")]), []);
        var response = await client.ReadResponseAsync(1);

        response.Reset.Should().Be(Http2ErrorCode.ProtocolError);
        _metrics.Refused(Http2Refusal.MalformedRequest).Should().Be(1);
    }

    [Fact]
    public async Task Body_PastItsBound_TellsTheHandlerAndStopsTheClient()
    {
        var endpoint = Start(new Http2Limits { MaxBodyBytes = 20_000 });
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendRequestAsync(1, Http2TestClient.RequestBlock("/big"), new byte[50_000]);
        var response = await client.ReadResponseAsync(1);

        Encoding.ASCII.GetString(response.Data).Should().Be("too-large");
        _metrics.Refused(Http2Refusal.BodyTooLarge).Should().Be(1);
        await client.SendRequestAsync(3, Http2TestClient.RequestBlock("/next"), new byte[7]);
        Encoding.ASCII.GetString((await client.ReadResponseAsync(3)).Data).Should().Be("7");
    }

    [Fact]
    public async Task Headers_OnAnEvenOrOldStream_IsAProtocolError()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.Headers, Http2Wire.FlagEndHeaders | Http2Wire.FlagEndStream, 2, Http2TestClient.RequestBlock("/even"));

        (await client.ReadGoAwayAsync())!.ErrorCode.Should().Be(Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public async Task PushPromise_FromAClient_IsAProtocolError()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);

        await client.SendAsync(Http2FrameType.PushPromise, Http2Wire.FlagEndHeaders, 1, new byte[8]);

        (await client.ReadGoAwayAsync())!.ErrorCode.Should().Be(Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public async Task Stop_SendsGoAwayAndClosesAnIdleConnection()
    {
        var endpoint = Start();
        await using var client = await Http2TestClient.ConnectAsync(endpoint);
        await client.SendRequestAsync(1, Http2TestClient.RequestBlock("/ok"), []);
        await client.ReadResponseAsync(1);

        var stop = _server!.StopAsync();
        var goAway = await client.ReadGoAwayAsync();
        await stop.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        goAway!.ErrorCode.Should().Be(Http2ErrorCode.NoError);
        System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(goAway.Payload).Should().Be(1, "the last stream it processed");
        _server.OpenConnections.Should().Be(0);
    }
}
