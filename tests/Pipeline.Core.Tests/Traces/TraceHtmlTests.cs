using System.Text.RegularExpressions;
using Pipeline.Core.Traces;
using Pipeline.Testing.Builders;
using static Pipeline.Core.Tests.Traces.TraceFixtures;

namespace Pipeline.Core.Tests.Traces;

public sealed partial class TraceHtmlTests
{
    public static TheoryData<string> Payloads() =>
    [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "'><svg/onload=alert(1)>",
        "</title></style></textarea><script>alert(1)</script>",
        "javascript:alert(1)",
        "&lt;script&gt;",
        "\u202e<b>reversed</b>",
        "]]><!--",
    ];

    [Fact]
    public void StandalonePage_FaultedTrace_HasEveryRowWithNestingAndDurations()
    {
        var tree = Assemble(FaultedTrace());

        var html = TraceHtml.StandalonePage(tree);

        foreach (var (id, depth, duration) in new[] { (SegmentA, 0, "300"), (CallB, 1, "230"), (SegmentB, 2, "210"), (Dynamo, 3, "190"), (Independent, 1, "30") })
        {
            Regex.IsMatch(html, $"data-span-id=\"{id}\"[^>]*data-depth=\"{depth}\"[^>]*data-duration-ms=\"{duration}(\\.0+)?\"").Should().BeTrue(id);
        }

        html.Should().Contain("<h3>cause</h3>").And.Contain("payment table unavailable").And.Contain("PutItem");
        html.Should().Contain("class=\"row gap\"");
    }

    [Fact]
    public void StandalonePage_Csp_AllowsExactlyItsOwnStylesheetAndNoScript()
    {
        var html = TraceHtml.StandalonePage(Assemble(FaultedTrace()));

        var csp = CspMeta().Match(html).Groups[1].Value;
        csp.Should().StartWith("default-src 'none'; style-src " + Html.CspHash(TraceHtml.Css));
        html.Should().Contain("<style>" + TraceHtml.Css + "</style>");
        html.Should().NotContainAny("<script", " style=\"", "onload", "onclick");
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void StandalonePage_HostileStrings_AreTextNotMarkup(string payload)
    {
        var root = SegmentBuilder.Segment("svc").WithTraceId(TraceId).WithId(SegmentA).WithTimes(T(0), T(10))
            .Set("name", payload).WithHttp("GET", "http://x/?q=" + payload, 200).WithAnnotation("note", payload)
            .WithMetadata("default", payload, payload).WithCause(payload, type: payload).Set("origin", payload)
            .WithSubsegment(SegmentBuilder.Embedded("sub").WithId(CallB).WithTimes(T(1), T(2)).Set("name", payload).WithSql(payload, payload));
        var tree = Assemble([root.ToJson()]);

        var html = TraceHtml.StandalonePage(tree);

        if (payload.IndexOfAny(['<', '>', '"', '\'', '&']) >= 0)
        {
            html.Should().NotContain(payload);
        }

        html.Should().NotContainAny("<script", "<img", "<svg/", "\u202e", "<b>", "href=\"javascript");
        // With every (double-quoted) attribute value emptied, no tag may carry an event handler.
        Regex.Matches(Regex.Replace(html, "\"[^\"]*\"", "\"\""), "<[^>]*\\son\\w+=").Should().BeEmpty();
        Regex.Matches(html, "<(\\w+)").Select(m => m.Groups[1].Value).Distinct().Should().BeSubsetOf(
            ["html", "head", "meta", "title", "style", "body", "main", "header", "h1", "code", "span", "p", "section", "svg", "defs", "marker", "path", "g", "rect", "text",
             "div", "details", "summary", "table", "tr", "th", "td", "h3", "pre", "ol", "li", "strong"]);
    }

    [Fact]
    public void StandalonePage_NotFound_SaysSo()
    {
        var html = TraceHtml.StandalonePage(Assemble([]));

        html.Should().Contain("not found").And.NotContain("class=\"waterfall\"");
    }

    [GeneratedRegex("<meta http-equiv=\"Content-Security-Policy\" content=\"([^\"]*)\">")]
    private static partial Regex CspMeta();
}
