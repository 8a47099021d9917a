using BenchmarkDotNet.Running;

namespace Pipeline.Bench;

/// <summary>Entry point: BenchmarkDotNet micro benchmarks (`-- --filter '*'`).</summary>
internal static class BenchProgram
{
    public static void Main(string[] args) =>
        BenchmarkSwitcher.FromAssembly(typeof(BenchProgram).Assembly).Run(args);
}
