using Pipeline.Testing;

namespace Pipeline.Core.Tests;

public sealed class CorpusTests
{
    [Fact]
    public void RealSegmentsCorpus_IsBesideTheRepository_WithItsManifest()
    {
        File.Exists(Path.Combine(RepoPaths.RealSegmentsCorpus, "MANIFEST.tsv")).Should().BeTrue();
    }
}
