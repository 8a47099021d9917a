using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Pipeline.Testing.Builders;

namespace Pipeline.Core.Tests.Segments;

/// <summary>FsCheck generators of schema-valid segment documents built with <see cref="SegmentBuilder"/>.</summary>
internal static class SegmentGenerators
{
    /// <summary>The clock the generated documents are valid against (their epochs are at or before it).</summary>
    public static readonly DateTimeOffset Now = SegmentBuilder.DefaultStart.AddHours(1);

    private static readonly string[] Names = ["api", "orders-api", "DynamoDB", "café", "svc_1.internal:8080", "a/b@c#d=e+f%g&h\\i", "x y", "名前"];
    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE"];

    public static Gen<SegmentBuilder> ValidSegment() =>
        from seed in Gen.Choose(1, int.MaxValue - 1)
        from name in Gen.Elements(Names)
        from minutesAgo in Gen.Choose(0, 60 * 24 * 365 * 5)
        from status in Gen.Elements(0, 200, 404, 429, 500, 503)
        from method in Gen.Elements(Methods)
        from flags in Gen.Choose(0, 15)
        from children in Gen.Choose(0, 4)
        from annotations in Gen.Choose(0, 3)
        from independent in Gen.Elements(false, false, false, true)
        select Build(seed, name, Now.AddMinutes(-minutesAgo), status, method, flags, children, annotations, independent);

    private static SegmentBuilder Build(int seed, string name, DateTimeOffset start, int status, string method, int flags, int children, int annotations, bool independent)
    {
        var builder = independent ? SegmentBuilder.IndependentSubsegment(name, seed, start) : SegmentBuilder.Segment(name, seed, start);
        if (status > 0)
        {
            builder.WithHttp(method, $"https://{name.Length}.example.com/p/{seed % 97}", status);
        }

        if ((flags & 1) != 0)
        {
            builder.WithError();
        }

        if ((flags & 2) != 0)
        {
            builder.WithFault().WithCause("boom");
        }

        if ((flags & 4) != 0)
        {
            builder.WithThrottle(false);
        }

        if ((flags & 8) != 0)
        {
            builder.InProgress();
        }

        for (var i = 0; i < annotations; i++)
        {
            builder.WithAnnotation("k_" + i, i % 3 == 0 ? JsonValue.Create("v") : i % 3 == 1 ? JsonValue.Create(i) : JsonValue.Create(true));
        }

        builder.WithMetadata("default", "m", new JsonObject { ["any"] = new JsonArray(1, "two", null) });
        for (var i = 0; i < children; i++)
        {
            var child = SegmentBuilder.Embedded("child-" + i, seed + i + 1, start);
            if (i % 2 == 1)
            {
                child.WithAws("Query", tableName: "t" + i).WithSubsegment(SegmentBuilder.Embedded("grandchild", seed + 100 + i, start));
            }

            builder.WithSubsegment(child);
        }

        return builder;
    }
}
