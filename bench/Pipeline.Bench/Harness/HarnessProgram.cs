using System.Globalization;
using Pipeline.Core.Cost;

namespace Pipeline.Bench.Harness;

/// <summary>
/// Non-BenchmarkDotNet measurements bench/run needs, as `Pipeline.Bench harness MODE [options]`:
///   cost [--ingest-segments-per-second N]   cost per million segments at 10 % sampling vs all to
///                                           X-Ray (Core's SamplingCostBenchmark with the dated
///                                           price table), one line "key=value ..." on stdout.
///   explorer [--dir D] [--segments N] [--batch N] [--runs N]
///                                           trace by id and search over a generated day of
///                                           archive against a full scan (<see cref="ExplorerBench"/>).
/// </summary>
internal static class HarnessProgram
{
    public static int Run(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: Pipeline.Bench harness cost [--ingest-segments-per-second N] | explorer [--dir D] [--segments N] [--batch N] [--runs N]");
            return 2;
        }

        return args[0] switch
        {
            "cost" => Cost(args[1..]),
            "explorer" => ExplorerBench.Run(args[1..]),
            _ => Unknown(args[0]),
        };
    }

    private static int Cost(string[] args)
    {
        var workload = new SegmentWorkload();
        var index = Array.IndexOf(args, "--ingest-segments-per-second");
        if (index >= 0 && index + 1 < args.Length)
        {
            workload = workload with { IngestSegmentsPerSecond = decimal.Parse(args[index + 1], CultureInfo.InvariantCulture) };
        }

        var table = PriceTable.Default;
        var comparison = SamplingCostBenchmark.PerMillionSegments(table, workload);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"pipeline_usd={comparison.PipelineUsd:0.0000} all_to_xray_usd={comparison.AllToXRayUsd:0.0000} ratio={comparison.Ratio:0.0000} kept_fraction={workload.KeptTraceFraction} ingest_segments_per_second={workload.IngestSegmentsPerSecond:0}"));
        return 0;
    }

    private static int Unknown(string mode)
    {
        Console.Error.WriteLine($"unknown harness mode '{mode}'");
        return 2;
    }
}
