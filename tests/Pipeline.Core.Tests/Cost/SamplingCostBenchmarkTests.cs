using Pipeline.Core.Cost;

namespace Pipeline.Core.Tests.Cost;

public sealed class SamplingCostBenchmarkTests
{
    [Fact]
    public void PerMillionSegments_TenPercentSampling_IsWithinTheTwentyPercentTarget()
    {
        var result = SamplingCostBenchmark.PerMillionSegments(PriceTable.Default, new SegmentWorkload());

        result.AllToXRayUsd.Should().Be(5.00m);
        result.Pipeline.XRay.Should().Be(0.50m);
        result.Ratio.Should().BeGreaterThan(0.10m).And.BeLessThanOrEqualTo(0.20m);
    }

    [Fact]
    public void PerMillionSegments_PipelineLines_AreTheMarginalCosts()
    {
        var result = SamplingCostBenchmark.PerMillionSegments(PriceTable.Default, new SegmentWorkload());

        // 1M records of 1 KB: 1M payload units; 1,000 invocations of 1,000 segments at 50k/s and 1 GB.
        result.Pipeline.ByComponent(CostComponent.KinesisPutPayloadUnits).Should().Be(0.014m);
        result.Pipeline.ByComponent(CostComponent.LambdaCompute).Should().Be(20m * 0.0000133334m);
        result.Pipeline.ByComponent(CostComponent.LambdaRequests).Should().Be(0.0002m);
        result.Pipeline.ByComponent(CostComponent.S3Puts).Should().Be(0.01m);
    }

    [Fact]
    public void PerMillionSegments_MoreSegmentsPerTrace_MakeTracesCheaperPerSegment()
    {
        var result = SamplingCostBenchmark.PerMillionSegments(PriceTable.Default, new SegmentWorkload { SegmentsPerTrace = 4m });

        result.AllToXRayUsd.Should().Be(1.25m);
        result.Pipeline.XRay.Should().Be(0.125m);
    }
}
