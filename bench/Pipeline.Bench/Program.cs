using BenchmarkDotNet.Running;

namespace Pipeline.Bench;

/// <summary>Entry point: BenchmarkDotNet micro benchmarks (`-- --filter '*'`).</summary>
internal static class BenchProgram
{
    public static int Main(string[] args)
    {
        // `harness MODE`: the end-to-end measurements bench/run takes alongside the benchmarks.
        if (args is ["harness", ..])
        {
            return Harness.HarnessProgram.Run(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(BenchProgram).Assembly).Run(args);
        return 0;
    }
}
