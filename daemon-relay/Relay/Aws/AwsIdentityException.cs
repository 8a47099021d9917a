namespace Relay.Aws;

/// <summary>
/// The relay could not learn who or where it is: EC2 instance metadata (IMDSv2) did not answer,
/// refused, or answered something unusable, or STS refused the role. The message is written for
/// the operator (what was asked, what came back, what to check).
/// </summary>
public sealed class AwsIdentityException : Exception
{
    public AwsIdentityException()
    {
    }

    public AwsIdentityException(string message)
        : base(message)
    {
    }

    public AwsIdentityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
