using System.Text;
using Relay.Http;

namespace Relay.Tests.Http;

public sealed class HttpRequestParserTests
{
    private static HttpRejectReason? Parse(string block, out HttpRequestHead? head) =>
        HttpRequestParser.TryParse(Encoding.Latin1.GetBytes(block), maxHeaderCount: 10, out head);

    [Fact]
    public void Parser_ValidRequest_GivesMethodPathQueryAndLowerCaseHeaders()
    {
        var rejection = Parse("POST /GetSamplingRules?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 12\r\nX-Amz-A: a\r\nx-amz-a: b", out var head);

        rejection.Should().BeNull();
        head!.Method.Should().Be("POST");
        head.Path.Should().Be("/GetSamplingRules");
        head.Query.Should().Be("x=1");
        head.ContentLength.Should().Be(12);
        head.KeepAlive.Should().BeTrue();
        head.Headers["x-amz-a"].Should().Be("a, b");
    }

    [Theory]
    [InlineData("GET / HTTP/1.0", false)]
    [InlineData("GET / HTTP/1.0\r\nConnection: keep-alive", true)]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nConnection: close", false)]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nConnection: TE, Close", false)]
    public void Parser_ConnectionHeader_DecidesKeepAlive(string block, bool keepAlive)
    {
        Parse(block, out var head).Should().BeNull();

        head!.KeepAlive.Should().Be(keepAlive);
    }

    [Theory]
    [InlineData("GARBAGE", HttpRejectReason.BadRequestLine)]
    [InlineData("GET  / HTTP/1.1\r\nHost: h", HttpRejectReason.BadRequestLine)]
    [InlineData("GET http://evil/ HTTP/1.1\r\nHost: h", HttpRejectReason.BadRequestLine)]
    [InlineData("G(T / HTTP/1.1\r\nHost: h", HttpRejectReason.BadRequestLine)]
    [InlineData("GET /\u00e9 HTTP/1.1\r\nHost: h", HttpRejectReason.BadRequestLine)]
    [InlineData("GET / HTTP/2.0\r\nHost: h", HttpRejectReason.UnsupportedVersion)]
    [InlineData("GET / HTTX/1.1\r\nHost: h", HttpRejectReason.BadRequestLine)]
    [InlineData("PRI * HTTP/2.0", HttpRejectReason.Http2NotSupported)]
    [InlineData("GET / HTTP/1.1", HttpRejectReason.MissingHost)]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nHost: b", HttpRejectReason.DuplicateHost)]
    [InlineData("GET / HTTP/1.1\r\nHost : h", HttpRejectReason.BadHeader)]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\n folded", HttpRejectReason.BadHeader)]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nX: a\u0000b", HttpRejectReason.BadHeader)]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\nno colon", HttpRejectReason.BadHeader)]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5", HttpRejectReason.DuplicateContentLength)]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5", HttpRejectReason.BadContentLength)]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1", HttpRejectReason.BadContentLength)]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999", HttpRejectReason.BadContentLength)]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked", HttpRejectReason.AmbiguousLength)]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked", HttpRejectReason.UnsupportedTransferEncoding)]
    [InlineData("POST / HTTP/1.0\r\nTransfer-Encoding: chunked", HttpRejectReason.UnsupportedTransferEncoding)]
    [InlineData("POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok", HttpRejectReason.UnsupportedExpectation)]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\na: 1\r\nb: 1\r\nc: 1\r\nd: 1\r\ne: 1\r\nf: 1\r\ng: 1\r\nh: 1\r\ni: 1\r\nj: 1", HttpRejectReason.TooManyHeaders)]
    public void Parser_MalformedRequest_IsRefusedWithItsReason(string block, HttpRejectReason reason)
    {
        Parse(block, out var head).Should().Be(reason);

        head.Should().BeNull();
        HttpRejectReasons.Message(reason).Length.Should().BeLessThan(100, "refusals are short and echo nothing");
    }

    [Fact]
    public void Parser_ChunkedAndExpectContinue_AreRecognised()
    {
        Parse("POST /v1/traces HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\nExpect: 100-continue", out var head).Should().BeNull();

        head!.Chunked.Should().BeTrue();
        head.ExpectContinue.Should().BeTrue();
    }

    [Fact]
    public void Parser_AnyBytes_NeverThrow()
    {
        var random = new Random(15);
        var prefixes = new[] { "GET / HTTP/1.1\r\nHost: h\r\n", "POST / HTTP/1.1\r\n", "" };
        for (var i = 0; i < 2000; i++)
        {
            var noise = new byte[random.Next(0, 200)];
            random.NextBytes(noise);
            var block = Encoding.Latin1.GetBytes(prefixes[i % prefixes.Length]).Concat(noise).ToArray();

            var act = () => HttpRequestParser.TryParse(block, 100, out _);

            act.Should().NotThrow();
        }
    }
}
