using Pipeline.Aws.Configuration;
using Pipeline.Aws.Tests.Support;
using Pipeline.Runtime.Configuration;

namespace Pipeline.Aws.Tests;

public sealed class AwsSettingsTests
{
    [Fact]
    public void FromEnvironment_Nothing_UsesFallbackRegionPublicEndpointsAndTheDefaultChain()
    {
        var settings = AwsSettings.FromEnvironment(Env());

        settings.Region.Should().Be("us-east-1");
        settings.EndpointUrl.Should().BeNull();
        settings.AccessKeyId.Should().BeNull();
        settings.ResolveEndpoint(AwsService.Kinesis).Should().Be(new Uri("https://kinesis.us-east-1.amazonaws.com/"));
        settings.HasCustomEndpoint(AwsService.S3).Should().BeFalse();
    }

    [Theory]
    [InlineData(AwsService.Kinesis, "https://kinesis.eu-central-1.amazonaws.com/")]
    [InlineData(AwsService.XRay, "https://xray.eu-central-1.amazonaws.com/")]
    [InlineData(AwsService.SesV2, "https://email.eu-central-1.amazonaws.com/")]
    [InlineData(AwsService.S3, "https://s3.eu-central-1.amazonaws.com/")]
    [InlineData(AwsService.DynamoDb, "https://dynamodb.eu-central-1.amazonaws.com/")]
    public void ResolveEndpoint_NoOverride_IsTheServicesRegionalHost(AwsService service, string expected)
    {
        var settings = AwsSettings.FromEnvironment(Env(("AWS_REGION", "eu-central-1")));

        settings.ResolveEndpoint(service).Should().Be(new Uri(expected));
    }

    [Fact]
    public void ResolveEndpoint_ChinaRegion_UsesTheChinaDnsSuffix()
    {
        var settings = AwsSettings.FromEnvironment(Env(("AWS_REGION", "cn-north-1")));

        settings.ResolveEndpoint(AwsService.XRay).Should().Be(new Uri("https://xray.cn-north-1.amazonaws.com.cn/"));
    }

    [Fact]
    public void FromEnvironment_BothRegionVariables_AwsRegionWins()
    {
        AwsSettings.FromEnvironment(Env(("AWS_REGION", "eu-west-1"), ("AWS_DEFAULT_REGION", "ap-south-1"))).Region.Should().Be("eu-west-1");
        AwsSettings.FromEnvironment(Env(("AWS_DEFAULT_REGION", "ap-south-1"))).Region.Should().Be("ap-south-1");
        AwsSettings.FromEnvironment(Env(("AWS_REGION", "  "), ("AWS_DEFAULT_REGION", "ap-south-1"))).Region.Should().Be("ap-south-1");
    }

    [Fact]
    public void ResolveEndpoint_GlobalEndpoint_AppliesToEveryService()
    {
        var settings = AwsSettings.FromEnvironment(Env(("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")));

        foreach (var service in Enum.GetValues<AwsService>())
        {
            settings.ResolveEndpoint(service).Should().Be(new Uri("http://127.0.0.1:5000/"));
            settings.HasCustomEndpoint(service).Should().BeTrue();
        }
    }

    [Theory]
    [InlineData("AWS_ENDPOINT_URL_KINESIS", AwsService.Kinesis)]
    [InlineData("AWS_ENDPOINT_URL_XRAY", AwsService.XRay)]
    [InlineData("AWS_ENDPOINT_URL_SESV2", AwsService.SesV2)]
    [InlineData("AWS_ENDPOINT_URL_S3", AwsService.S3)]
    [InlineData("AWS_ENDPOINT_URL_DYNAMODB", AwsService.DynamoDb)]
    public void ResolveEndpoint_ServiceVariable_WinsOverGlobalForThatServiceOnly(string variable, AwsService service)
    {
        var settings = AwsSettings.FromEnvironment(Env(("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"), (variable, "http://127.0.0.1:6000")));

        settings.ResolveEndpoint(service).Should().Be(new Uri("http://127.0.0.1:6000/"));
        foreach (var other in Enum.GetValues<AwsService>().Where(s => s != service))
        {
            settings.ResolveEndpoint(other).Should().Be(new Uri("http://127.0.0.1:5000/"));
        }
    }

    [Fact]
    public void ResolveEndpoint_ServiceVariableWithoutGlobal_LeavesOthersOnAws()
    {
        var settings = AwsSettings.FromEnvironment(Env(("AWS_ENDPOINT_URL_XRAY", "http://127.0.0.1:2000")));

        settings.ResolveEndpoint(AwsService.XRay).Should().Be(new Uri("http://127.0.0.1:2000/"));
        settings.HasCustomEndpoint(AwsService.Kinesis).Should().BeFalse();
        settings.ResolveEndpoint(AwsService.Kinesis).Host.Should().Be("kinesis.us-east-1.amazonaws.com");
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://127.0.0.1/")]
    [InlineData("/relative")]
    public void FromEnvironment_BadEndpoint_FailsNamingTheVariable(string value)
    {
        var act = () => AwsSettings.FromEnvironment(Env(("AWS_ENDPOINT_URL_KINESIS", value)));

        act.Should().Throw<ConfigurationException>().WithMessage($"AWS_ENDPOINT_URL_KINESIS: '{value}' is not an absolute http(s) URL");
    }

    [Fact]
    public void FromEnvironment_KeyPairAndToken_AreCarried()
    {
        var settings = AwsSettings.FromEnvironment(Env(("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "secret"), ("AWS_SESSION_TOKEN", "tok")));

        (settings.AccessKeyId, settings.SecretAccessKey, settings.SessionToken).Should().Be(("AKID", "secret", "tok"));
    }

    [Fact]
    public void VariableNames_AreTheStandardAwsOnes()
    {
        (AwsSettings.RegionVariable, AwsSettings.DefaultRegionVariable, AwsSettings.EndpointUrlVariable, AwsSettings.ServiceEndpointUrlVariablePrefix)
            .Should().Be(("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_"));
    }

    [Fact]
    public void S3Config_WithEndpoint_IsPathStyleAtThatUrl()
    {
        var config = AwsClients.S3Config(AwsSettings.FromEnvironment(Env(("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"), ("AWS_REGION", "eu-west-1"))), SharedHttp);

        config.ForcePathStyle.Should().BeTrue();
        config.ServiceURL.Should().StartWith("http://127.0.0.1:5000");
        config.AuthenticationRegion.Should().Be("eu-west-1");
        config.IgnoreConfiguredEndpointUrls.Should().BeTrue();
        config.HttpClientFactory.Should().BeSameAs(SharedHttp, "the SDK clients send through the executable's one pooled HttpClient");
    }

    [Fact]
    public void S3Config_WithoutEndpoint_IsVirtualHostedInTheRegion()
    {
        var config = AwsClients.S3Config(AwsSettings.FromEnvironment(Env(("AWS_REGION", "eu-west-1"))), SharedHttp);

        config.ForcePathStyle.Should().BeFalse();
        config.ServiceURL.Should().BeNull();
        config.RegionEndpoint.SystemName.Should().Be("eu-west-1");
    }

    [Fact]
    public void DynamoDbConfig_ServiceVariable_IsUsedOverGlobal()
    {
        var config = AwsClients.DynamoDbConfig(AwsSettings.FromEnvironment(Env(("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"), ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"))), SharedHttp);

        config.ServiceURL.Should().StartWith("http://127.0.0.1:8000");
    }

    private static readonly AwsClients.SharedHttpClientFactory SharedHttp = new(new HttpClient(new FakeAwsHandler((_, _) => new HttpResponseMessage(System.Net.HttpStatusCode.OK))));

    private static DictionaryEnvironment Env(params (string Name, string Value)[] variables) =>
        new(variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal));
}
