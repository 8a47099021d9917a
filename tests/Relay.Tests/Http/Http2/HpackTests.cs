using Relay.Http.Http2;

namespace Relay.Tests.Http.Http2;

/// <summary>The HPACK decoder against RFC 7541 Appendix C, and hostile header blocks.</summary>
public sealed class HpackTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    private static List<(string, string)> Decode(HpackDecoder decoder, string hex) => [.. decoder.Decode(Hex(hex), 64 * 1024).Fields];

    [Theory]
    [InlineData(0, 13, 0x1ff8u)]
    [InlineData(1, 23, 0x7fffd8u)]
    [InlineData(10, 30, 0x3ffffffcu)]
    [InlineData(32, 6, 0x14u)]
    [InlineData(47, 6, 0x18u)]
    [InlineData(48, 5, 0x0u)]
    [InlineData(92, 19, 0x7fff0u)]
    [InlineData(127, 28, 0xffffffcu)]
    [InlineData(199, 25, 0x1ffffecu)]
    [InlineData(255, 26, 0x3ffffeeu)]
    [InlineData(256, 30, 0x3fffffffu)]
    public void Huffman_DerivedCodes_MatchAppendixB(int symbol, int length, uint code)
    {
        HpackHuffman.Code(symbol).Should().Be((code, length));
    }

    [Fact]
    public void Huffman_EncodeThenDecode_RoundTripsEveryByte()
    {
        var random = new Random(5);
        for (var round = 0; round < 200; round++)
        {
            var input = new byte[random.Next(0, 64)];
            random.NextBytes(input);
            var decoded = new List<byte>();

            HpackHuffman.TryDecode(HpackHuffman.Encode(input), decoded).Should().BeTrue();

            decoded.Should().Equal(input);
        }
    }

    [Theory]
    [InlineData("fe")]        // 8 bits that begin a longer code: more than 7 bits left over
    [InlineData("18")]        // 'a' then three zero bits of padding
    [InlineData("ffffffff")]  // EOS (30 ones) inside the string
    [InlineData("07ff")]      // '0' then 11 bits of padding (more than 7)
    public void Huffman_BadPaddingOrEos_IsRefused(string hex)
    {
        HpackHuffman.TryDecode(Hex(hex), []).Should().BeFalse();
    }

    [Fact]
    public void AppendixC2_SingleRepresentations()
    {
        var indexed = new HpackDecoder();
        Decode(indexed, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572").Should().Equal(("custom-key", "custom-header"));
        indexed.TableSize.Should().Be(55);

        var notIndexed = new HpackDecoder();
        Decode(notIndexed, "040c 2f73 616d 706c 652f 7061 7468").Should().Equal((":path", "/sample/path"));
        notIndexed.TableSize.Should().Be(0);

        var never = new HpackDecoder();
        Decode(never, "1008 7061 7373 776f 7264 0673 6563 7265 74").Should().Equal(("password", "secret"));
        never.TableSize.Should().Be(0);

        Decode(new HpackDecoder(), "82").Should().Equal((":method", "GET"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AppendixC3AndC4_Requests_ShareTheDynamicTable(bool huffman)
    {
        var decoder = new HpackDecoder();
        var blocks = huffman
            ? new[]
            {
                "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
                "8286 84be 5886 a8eb 1064 9cbf",
                "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
            }
            : new[]
            {
                "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                "8286 84be 5808 6e6f 2d63 6163 6865",
                "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
            };

        Decode(decoder, blocks[0]).Should().Equal((":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"));
        decoder.TableSize.Should().Be(57);
        Decode(decoder, blocks[1]).Should().Equal((":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache"));
        decoder.TableSize.Should().Be(110);
        Decode(decoder, blocks[2]).Should().Equal((":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value"));
        decoder.TableSize.Should().Be(164);
        decoder.DynamicTable.Should().Equal(("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AppendixC5AndC6_Responses_EvictFromA256ByteTable(bool huffman)
    {
        var decoder = new HpackDecoder(maxTableSize: 256);
        var blocks = huffman
            ? new[]
            {
                "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
                "4883 640e ffc1 c0bf",
                "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
            }
            : new[]
            {
                "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                "4803 3330 37c1 c0bf",
                "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
            };
        const string date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
        const string location = "https://www.example.com";
        const string cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

        Decode(decoder, blocks[0]).Should().Equal((":status", "302"), ("cache-control", "private"), ("date", date1), ("location", location));
        decoder.TableSize.Should().Be(222);
        Decode(decoder, blocks[1]).Should().Equal((":status", "307"), ("cache-control", "private"), ("date", date1), ("location", location));
        decoder.DynamicTable.Should().Equal((":status", "307"), ("location", location), ("date", date1), ("cache-control", "private"));
        Decode(decoder, blocks[2]).Should().Equal(
            (":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"), ("location", location), ("content-encoding", "gzip"), ("set-cookie", cookie));
        decoder.TableSize.Should().Be(215);
        decoder.DynamicTable.Should().Equal(("set-cookie", cookie), ("content-encoding", "gzip"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"));
    }

    [Theory]
    [InlineData("", HpackError.None)]
    [InlineData("80", HpackError.BadIndex)]                    // index 0
    [InlineData("be", HpackError.BadIndex)]                    // index 62 with an empty dynamic table
    [InlineData("ff ff ff ff ff 0f", HpackError.IntegerOverflow)]
    [InlineData("ff 80 80 80 80 80 01", HpackError.IntegerOverflow)]
    [InlineData("ff", HpackError.Truncated)]
    [InlineData("40 0a 6375", HpackError.Truncated)]           // a name of 10 octets cut at 2
    [InlineData("04 8c f1e3", HpackError.Truncated)]
    [InlineData("04 81 18", HpackError.BadHuffman)]
    [InlineData("3f e2 1f", HpackError.TableSizeTooLarge)]     // size update to 4096 + 1
    [InlineData("82 20", HpackError.TableSizeUpdateMisplaced)]
    public void Decode_HostileBlocks_AreRefusedWithTheirReason(string hex, HpackError expected)
    {
        var decoder = new HpackDecoder();
        var act = () => decoder.Decode(Hex(hex), 64 * 1024);

        if (expected == HpackError.None)
        {
            act.Should().NotThrow();
        }
        else
        {
            act.Should().Throw<HpackException>().Which.Error.Should().Be(expected);
        }
    }

    [Fact]
    public void Decode_PastTheHeaderListBound_KeepsTheTableInStepButDropsFields()
    {
        var decoder = new HpackDecoder();
        var block = new List<byte>();
        for (var i = 0; i < 10; i++)
        {
            // Literal with incremental indexing, new name: 40 len name len value.
            block.Add(0x40);
            HpackEncoder.WriteInteger(block, 0, 7, 6);
            block.AddRange("name-"u8.ToArray());
            block.Add((byte)('0' + i));
            HpackEncoder.WriteInteger(block, 0, 7, 100);
            block.AddRange(Enumerable.Repeat((byte)'v', 100));
        }

        var list = decoder.Decode(block.ToArray(), maxHeaderListSize: 500);

        list.TooLarge.Should().BeTrue();
        list.Fields.Should().HaveCount(3, "each field costs 6 + 100 + 32 = 138 bytes of the 500");
        list.Size.Should().Be(1380);
        decoder.DynamicTable.Should().HaveCount(10, "every field still enters the table").And.Contain(("name-9", new string('v', 100)));
    }

    [Fact]
    public void Encoder_Output_DecodesBack()
    {
        var block = new List<byte>();
        HpackEncoder.WriteIndexed(block, 8);
        HpackEncoder.WriteLiteral(block, 31, "application/grpc");
        HpackEncoder.WriteLiteral(block, "grpc-status", "14");
        HpackEncoder.WriteLiteral(block, "grpc-message", new string('m', 300));

        var decoder = new HpackDecoder();
        decoder.Decode(block.ToArray(), 64 * 1024).Fields.Should().Equal(
            (":status", "200"), ("content-type", "application/grpc"), ("grpc-status", "14"), ("grpc-message", new string('m', 300)));
        decoder.TableSize.Should().Be(0, "the encoder never indexes");
    }
}
