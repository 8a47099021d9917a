using Pipeline.Aws.Configuration;
using Pipeline.Runtime.Resilience;

namespace Pipeline.Aws.Tests.Support;

/// <summary>Settings and clients wired to a fake handler and fake time.</summary>
internal static class TestAws
{
    public const string AccessKey = "AKIDEXAMPLE";
    public const string SecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    /// <summary>The SigV4 test suite's signing time.</summary>
    public static readonly DateTimeOffset SigningTime = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);

    public static AwsSettings Settings(BackoffOptions? retry = null) => new()
    {
        Region = "us-east-1",
        AccessKeyId = AccessKey,
        SecretAccessKey = SecretKey,
        Retry = retry ?? new BackoffOptions { MaxAttempts = 4, BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) },
    };

    public static AwsClients Clients(FakeAwsHandler handler, RecordingTimeProvider time, AwsSettings? settings = null, int seed = 7) =>
        AwsClients.Create(settings ?? Settings(), new HttpClient(handler), time, new Random(seed));
}
