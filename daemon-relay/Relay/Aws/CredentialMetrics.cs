using System.Globalization;
using System.Text;

namespace Relay.Aws;

/// <summary>
/// Renewals of the relay's temporary credentials, per source (<c>imds</c>: the instance role;
/// <c>assume_role</c>: -r/--role-arn), written into /metrics: renewals, failed renewals, and the
/// seconds left on the current key (a key that runs out without renewal stops every PutRecords).
/// </summary>
public sealed class CredentialMetrics
{
    public const string ImdsSource = "imds";
    public const string AssumeRoleSource = "assume_role";

    private readonly List<CredentialSource> _sources = [];
    private readonly Lock _lock = new();

    public CredentialSource Source(string name)
    {
        lock (_lock)
        {
            var existing = _sources.Find(s => s.Name == name);
            if (existing is not null)
            {
                return existing;
            }

            var source = new CredentialSource(name);
            _sources.Add(source);
            return source;
        }
    }

    public IReadOnlyList<CredentialSource> Sources
    {
        get
        {
            lock (_lock)
            {
                return [.. _sources];
            }
        }
    }

    public void WritePrometheus(StringBuilder text, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sources = Sources;
        if (sources.Count == 0)
        {
            return;
        }

        Family(text, "xray_relay_credential_renewals_total", "counter", "Temporary credentials fetched (at start and before each expiry), by source.", sources, s => s.Renewals);
        Family(text, "xray_relay_credential_renewal_failures_total", "counter", "Failed fetches of temporary credentials (IMDS or STS unreachable or refusing), by source.", sources, s => s.Failures);
        Family(text, "xray_relay_credential_expiry_seconds", "gauge", "Seconds until the current temporary key expires (negative: expired), by source.", sources, s => s.Expires is { } e ? (long)(e - now).TotalSeconds : 0);
    }

    private static void Family(StringBuilder text, string name, string type, string help, IReadOnlyList<CredentialSource> sources, Func<CredentialSource, long> value)
    {
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n");
        foreach (var source in sources)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}{{source=\"{source.Name}\"}} {value(source)}\n");
        }
    }
}

/// <summary>The counters of one credential source.</summary>
public sealed class CredentialSource
{
    private long _renewals;
    private long _failures;
    private long _expiresTicks;

    internal CredentialSource(string name) => Name = name;

    public string Name { get; }

    public long Renewals => Interlocked.Read(ref _renewals);

    public long Failures => Interlocked.Read(ref _failures);

    public DateTimeOffset? Expires => Interlocked.Read(ref _expiresTicks) is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    internal void OnRenewed(DateTimeOffset expires)
    {
        Interlocked.Exchange(ref _expiresTicks, expires.UtcTicks);
        Interlocked.Increment(ref _renewals);
    }

    internal void OnRenewalFailed() => Interlocked.Increment(ref _failures);
}
