using Pipeline.Cli.Deployed;
using Pipeline.Testing;

namespace Pipeline.Cli.Tests.Deployed;

public sealed class DeployedStackTests
{
    [Fact]
    public void SamConfig_StackName_DeployTableWinsOverGlobal()
    {
        const string toml = """
            version = 0.1
            [default.global.parameters]
            stack_name = "from-global"   # comment
            [default.deploy.parameters]
            stack_name = 'from-deploy'
            [dev.global.parameters]
            stack_name = "dev-stack"
            """;

        SamConfig.StackName(toml).Should().Be("from-deploy");
        SamConfig.StackName(toml, "dev").Should().Be("dev-stack");
        SamConfig.StackName(toml, "prod").Should().BeNull();
    }

    [Fact]
    public void SamConfig_TheRepositorysFile_NamesTheDefaultStack()
    {
        var path = SamConfig.Locate(Path.Combine(RepoPaths.Root, "tools", "Pipeline.Cli"));

        path.Should().Be(Path.Combine(RepoPaths.Root, SamConfig.FileName));
        SamConfig.StackName(File.ReadAllText(path!)).Should().Be("xray-pipeline");
    }

    [Fact]
    public async Task Find_NoFlag_UsesSamConfigsStackName()
    {
        var cloudFormation = new FakeCloudFormation().With("xray-pipeline", FakeCloudFormation.AthenaOutputs("xray-pipeline"));

        var stack = await DeployedStack.FindAsync(cloudFormation, null, RepoPaths.Root, "us-east-1", TestContext.Current.CancellationToken);

        stack.Name.Should().Be("xray-pipeline");
        cloudFormation.Asked.Should().Equal("xray-pipeline");
    }

    [Fact]
    public async Task Find_UnknownStack_NamesTheStackRegionAndWhatToDo()
    {
        var act = () => DeployedStack.FindAsync(new FakeCloudFormation(), "nope", RepoPaths.Root, "eu-west-1", TestContext.Current.CancellationToken);

        (await act.Should().ThrowAsync<DeployedStackException>()).Which.Message.Should()
            .Contain("stack 'nope' does not exist in eu-west-1").And.Contain("sam deploy").And.Contain("--stack");
    }

    [Fact]
    public async Task Find_RolledBackStack_SaysItsStatus()
    {
        var cloudFormation = new FakeCloudFormation().With("broken", FakeCloudFormation.AthenaOutputs("broken"), "ROLLBACK_COMPLETE");

        var act = () => DeployedStack.FindAsync(cloudFormation, "broken", RepoPaths.Root, "us-east-1", TestContext.Current.CancellationToken);

        (await act.Should().ThrowAsync<DeployedStackException>()).Which.Message.Should().Contain("stack 'broken' is ROLLBACK_COMPLETE");
    }

    [Fact]
    public async Task Find_NoFlagAndNoSamConfig_AsksForStack()
    {
        var empty = Directory.CreateTempSubdirectory("pipeline-no-samconfig-");
        try
        {
            var act = () => DeployedStack.FindAsync(new FakeCloudFormation(), null, empty.FullName, "us-east-1", TestContext.Current.CancellationToken);

            (await act.Should().ThrowAsync<DeployedStackException>()).Which.Message.Should().Contain("pass --stack NAME");
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task AthenaTarget_MissingOutput_NamesTheOutputAndTheStack()
    {
        var outputs = FakeCloudFormation.AthenaOutputs("old");
        outputs.Remove(DeployedStack.AthenaResultsLocation);
        var cloudFormation = new FakeCloudFormation().With("old", outputs);

        var act = () => AthenaTarget.ResolveAsync(() => cloudFormation, "old", null, null, null, RepoPaths.Root, "us-east-1", TestContext.Current.CancellationToken);

        (await act.Should().ThrowAsync<DeployedStackException>()).Which.Message.Should()
            .Contain("stack 'old' has no output AthenaResultsLocation").And.Contain("redeploy");
    }

    [Fact]
    public async Task AthenaTarget_FlagsOverrideOutputs_AndAllThreeNeedNoStack()
    {
        var cloudFormation = new FakeCloudFormation().With("s", FakeCloudFormation.AthenaOutputs("s"));
        var ct = TestContext.Current.CancellationToken;

        var mixed = await AthenaTarget.ResolveAsync(() => cloudFormation, "s", "mine", null, null, RepoPaths.Root, "us-east-1", ct);
        var flagsOnly = await AthenaTarget.ResolveAsync(() => throw new InvalidOperationException("no stack lookup"), null, "wg", "db", "s3://r/", RepoPaths.Root, "us-east-1", ct);

        mixed.Should().Be(new AthenaTarget("mine", "xray_pipeline", "s3://s-athenaresults/athena-results/"));
        flagsOnly.Should().Be(new AthenaTarget("wg", "db", "s3://r/"));
    }
}
