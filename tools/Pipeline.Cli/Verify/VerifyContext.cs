using Pipeline.Aws;
using Pipeline.Aws.Athena;
using Pipeline.Aws.CloudFormation;
using Pipeline.Aws.CloudWatch;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Lambda;
using Pipeline.Runtime.Configuration;

namespace Pipeline.Cli.Verify;

/// <summary>
/// What <c>pipeline verify</c> needs from the composition root: clock, environment, the pooled
/// HttpClient, the working directory (samconfig.toml, athena/), and a factory per AWS client so
/// that a test can point them elsewhere. The defaults are the real signed clients.
/// </summary>
internal sealed class VerifyContext
{
    public VerifyContext(TimeProvider time, IEnvironment environment, HttpClient http, string workingDirectory)
    {
        Time = time;
        Environment = environment;
        Http = http;
        WorkingDirectory = workingDirectory;
        CloudFormationFactory = settings => CloudFormationClientFactory.Create(settings, Http, Time);
        AwsFactory = settings => AwsClients.Create(settings, Http, Time);
        AthenaFactory = settings => AthenaClientFactory.Create(settings, Http, Time);
        LambdaFactory = (settings, invokeHttp) => LambdaClientFactory.Create(settings, Http, invokeHttp, Time);
        CloudWatchFactory = settings => CloudWatchClientFactory.Create(settings, Http, Time);
    }

    public TimeProvider Time { get; }

    public IEnvironment Environment { get; }

    public HttpClient Http { get; }

    public string WorkingDirectory { get; }

    public Func<AwsSettings, ICloudFormationClient> CloudFormationFactory { get; init; }

    /// <summary>Kinesis (PutRecords) and the archive's object store.</summary>
    public Func<AwsSettings, AwsClients> AwsFactory { get; init; }

    public Func<AwsSettings, IAthenaClient> AthenaFactory { get; init; }

    /// <summary>The Lambda client; the second argument is the HttpClient for Invoke (its timeout covers a function's run).</summary>
    public Func<AwsSettings, HttpClient, ILambdaClient> LambdaFactory { get; init; }

    public Func<AwsSettings, ICloudWatchClient> CloudWatchFactory { get; init; }

    /// <summary>The run id's and segments' randomness (a test seeds it to know the ids in advance).</summary>
    public Func<Random> Random { get; init; } = () => new Random();

    /// <summary>Pause between looks at the archive while waiting for the segments.</summary>
    public TimeSpan ArchivePollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Athena polling (null: the runner's default).</summary>
    public TimeSpan? AthenaPollInterval { get; init; }

    /// <summary>The shared AWS settings from the environment (the user's credentials and region), with the flags on top.</summary>
    public AwsSettings Settings(string? endpointFlag, string? regionFlag)
    {
        var settings = AwsSettings.FromEnvironment(Environment);
        if (endpointFlag is not null)
        {
            settings = settings with { EndpointUrl = new Uri(endpointFlag) };
        }

        return regionFlag is null ? settings : settings with { Region = regionFlag };
    }
}
