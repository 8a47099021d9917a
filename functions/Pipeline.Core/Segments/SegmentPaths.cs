using System.Text;

namespace Pipeline.Core.Segments;

/// <summary>Builds JSON paths like <c>$.subsegments[2].subsegments[0].name</c>; only called on rejection.</summary>
internal static class SegmentPaths
{
    public static string Of(ReadOnlySpan<SegmentNode> nodes, int nodeIndex, string field, string? member = null)
    {
        var builder = new StringBuilder("$");
        var chain = new Stack<int>();
        for (var i = nodeIndex; i > 0; i = nodes[i].ParentIndex)
        {
            chain.Push(nodes[i].IndexInParent);
        }

        foreach (var position in chain)
        {
            builder.Append(".subsegments[").Append(position).Append(']');
        }

        builder.Append('.').Append(field);
        if (member is not null)
        {
            AppendMember(builder, member);
        }

        return builder.ToString();
    }

    private static void AppendMember(StringBuilder builder, string member)
    {
        if (member.Length > 0 && member.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            builder.Append('.').Append(member);
            return;
        }

        builder.Append("['").Append(member.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)).Append("']");
    }
}
