namespace Pipeline.Aws.Ses;

/// <summary>
/// The SES v2 calls the pipeline makes (rest-json). AWSSDK.SimpleEmailV2 is not served here, so
/// this is our own small client, shaped so the official package could replace it.
/// </summary>
public interface ISesClient
{
    /// <summary>Sends a complete MIME message (SendEmail with Raw content); returns the MessageId.</summary>
    Task<string> SendRawEmailAsync(RawEmail email, CancellationToken cancellationToken = default);

    /// <summary>Starts verification of an address or domain (CreateEmailIdentity).</summary>
    Task<EmailIdentityResult> CreateEmailIdentityAsync(string emailIdentity, CancellationToken cancellationToken = default);
}

/// <summary>
/// A raw MIME message. <paramref name="FromEmailAddress"/> and <paramref name="ToAddresses"/>
/// are optional: SES takes them from the MIME headers when absent.
/// </summary>
public sealed record RawEmail(ReadOnlyMemory<byte> Mime, string? FromEmailAddress = null, IReadOnlyList<string>? ToAddresses = null);

public sealed record EmailIdentityResult(string? IdentityType, bool VerifiedForSendingStatus);
