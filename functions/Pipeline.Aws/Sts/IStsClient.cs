namespace Pipeline.Aws.Sts;

/// <summary>AWS STS: the calls the pipeline makes (the relay's <c>-r/--role-arn</c>).</summary>
public interface IStsClient
{
    /// <summary>
    /// AssumeRole: temporary credentials of <paramref name="roleArn"/> for <paramref name="duration"/>
    /// (STS allows 15 minutes up to the role's maximum session, 1 hour by default), signed with the
    /// client's own credentials. Errors are <see cref="Http.AwsServiceException"/>s (AccessDenied,
    /// MalformedPolicyDocument, RegionDisabledException, ...).
    /// </summary>
    Task<TemporaryCredentials> AssumeRoleAsync(string roleArn, string sessionName, TimeSpan duration, CancellationToken cancellationToken = default);
}

/// <summary>A temporary key pair with its session token and the instant it stops working.</summary>
public sealed record TemporaryCredentials(string AccessKeyId, string SecretAccessKey, string SessionToken, DateTimeOffset Expiration)
{
    // Records print every member; secrets must never reach a log line.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("AccessKeyId = ").Append(AccessKeyId)
            .Append(", SecretAccessKey = ***, SessionToken = ***, Expiration = ")
            .Append(Expiration.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        return true;
    }
}
