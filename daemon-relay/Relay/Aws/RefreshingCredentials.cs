using Amazon.Runtime;
using Pipeline.Aws.Sts;
using Relay.Logging;

namespace Relay.Aws;

/// <summary>
/// Temporary credentials (the instance role's from IMDS, an assumed role's from STS) that are
/// renewed before they expire. Inside <see cref="RefreshAhead"/> of the expiry the first caller
/// starts one renewal in the background and every caller keeps signing with the current,
/// still-valid key; only once it has expired do callers wait for the renewal. A failed renewal is
/// counted and logged and tried again no sooner than <see cref="RetryInterval"/> later while the
/// key still works; once it has expired the failure reaches the caller (the sender then counts a
/// failed PutRecords and spools), never an expired key.
/// </summary>
public sealed class RefreshingCredentials : AWSCredentials
{
    /// <summary>Renew this long before the expiry (IMDS offers new role credentials at least 5 minutes before the old ones expire).</summary>
    public static readonly TimeSpan DefaultRefreshAhead = TimeSpan.FromMinutes(5);

    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(30);

    private readonly Func<CancellationToken, Task<TemporaryCredentials>> _fetch;
    private readonly TimeProvider _time;
    private readonly CredentialSource _metrics;
    private readonly JsonLog _log;
    private readonly Lock _lock = new();
    private (ImmutableCredentials Key, DateTimeOffset Expires)? _current;
    private Task<ImmutableCredentials>? _renewal;
    private DateTimeOffset _lastFailure = DateTimeOffset.MinValue;

    public RefreshingCredentials(Func<CancellationToken, Task<TemporaryCredentials>> fetch, TimeProvider time, CredentialSource metrics, JsonLog log, TimeSpan? refreshAhead = null)
    {
        ArgumentNullException.ThrowIfNull(fetch);
        ArgumentNullException.ThrowIfNull(metrics);
        _fetch = fetch;
        _time = time;
        _metrics = metrics;
        _log = log;
        RefreshAhead = refreshAhead ?? DefaultRefreshAhead;
    }

    public TimeSpan RefreshAhead { get; }

    /// <summary>Where the credentials come from (the <c>source</c> label of the metrics).</summary>
    public string Source => _metrics.Name;

    /// <summary>Fetches the first key now, so that a start-up without credentials fails with the reason.</summary>
    public async Task InitializeAsync() => await GetCredentialsAsync().ConfigureAwait(false);

    public override ImmutableCredentials GetCredentials() => GetCredentialsAsync().GetAwaiter().GetResult();

    public override Task<ImmutableCredentials> GetCredentialsAsync()
    {
        Task<ImmutableCredentials> renewal;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (_current is { } current && now < current.Expires)
            {
                var due = now >= current.Expires - RefreshAhead;
                if (due && _renewal is null && now >= _lastFailure + RetryInterval)
                {
                    // Renew in the background; this caller signs with the key that still works
                    // (a failure is counted and logged in RenewAsync; observe it here).
                    _renewal = RenewAsync();
                    _renewal.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }

                return Task.FromResult(current.Key);
            }

            renewal = _renewal ??= RenewAsync();
        }

        return renewal;
    }

    private async Task<ImmutableCredentials> RenewAsync()
    {
        // Leave the lock before any I/O: the fetch runs on the thread pool.
        await Task.Yield();
        try
        {
            var fresh = await _fetch(CancellationToken.None).ConfigureAwait(false);
            var key = new ImmutableCredentials(fresh.AccessKeyId, fresh.SecretAccessKey, fresh.SessionToken);
            lock (_lock)
            {
                _current = (key, fresh.Expiration);
                _renewal = null;
            }

            _metrics.OnRenewed(fresh.Expiration);
            _log.Info("credentials renewed", ("source", Source), ("expires", fresh.Expiration.ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
            return key;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            bool stillValid;
            lock (_lock)
            {
                _renewal = null;
                _lastFailure = _time.GetUtcNow();
                stillValid = _current is { } current && _lastFailure < current.Expires;
            }

            _metrics.OnRenewalFailed();
            _log.Warn("credentials could not be renewed", ("source", Source), ("error", e.Message), ("current_key_still_valid", stillValid));
            if (e is AwsIdentityException)
            {
                throw;
            }

            throw new AwsIdentityException($"{Source} credentials could not be renewed: {e.Message}", e);
        }
    }
}
