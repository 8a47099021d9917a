using System.Globalization;
using System.Text;
using System.Text.Json;
using Pipeline.LocalAws.Moto;
using Xunit;

namespace Pipeline.Testing;

/// <summary>
/// One moto_server per test assembly (or per class): use it as
/// <c>[assembly: AssemblyFixture(typeof(MotoFixture))]</c> and take <see cref="MotoFixture"/> in
/// a test class constructor, or as <c>IClassFixture&lt;MotoFixture&gt;</c>. Tests share the server,
/// so each one names its resources with <see cref="UniqueName"/> instead of resetting state.
/// </summary>
public sealed class MotoFixture : IAsyncLifetime
{
    private const int MaxNameLength = 63; // S3 bucket names: 3-63 chars, the tightest of our resources.
    private static long s_counter;
    private MotoServer? _server;

    /// <summary>The running server; throws before <see cref="InitializeAsync"/> has run.</summary>
    public MotoServer Server => _server ?? throw new InvalidOperationException("MotoFixture is not initialized.");

    /// <inheritdoc cref="MotoServer.Endpoint"/>
    public Uri Endpoint => Server.Endpoint;

    /// <inheritdoc cref="MotoServer.Region"/>
    public string Region => Server.Region;

    /// <inheritdoc cref="MotoServer.EnvironmentVariables"/>
    public IReadOnlyDictionary<string, string> EnvironmentVariables => Server.EnvironmentVariables;

    /// <summary>
    /// A resource name unique in this process run and across runs: lower-case
    /// <c>{prefix}-{counter}-{random}</c>, at most 63 chars of [a-z0-9-], so it is a valid S3 bucket,
    /// Kinesis stream, DynamoDB table and SES identity local part.
    /// </summary>
    public static string UniqueName(string prefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        var clean = new StringBuilder(prefix.Length);
        foreach (var c in prefix.ToLowerInvariant())
        {
            clean.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        }

        var suffix = string.Create(
            CultureInfo.InvariantCulture,
            $"-{Interlocked.Increment(ref s_counter)}-{Guid.NewGuid().ToString("N")[..8]}");
        var head = clean.ToString().Trim('-');
        if (head.Length == 0 || !char.IsAsciiLetter(head[0]))
        {
            head = "t" + head;
        }

        if (head.Length + suffix.Length > MaxNameLength)
        {
            head = head[..(MaxNameLength - suffix.Length)].TrimEnd('-');
        }

        return head + suffix;
    }

    /// <inheritdoc cref="MotoServer.ResetAsync"/>
    public Task ResetAsync(CancellationToken cancellationToken = default) => Server.ResetAsync(cancellationToken);

    /// <inheritdoc cref="MotoServer.ReadDataJsonAsync"/>
    public Task<JsonElement> ReadDataJsonAsync(CancellationToken cancellationToken = default) => Server.ReadDataJsonAsync(cancellationToken);

    public async ValueTask InitializeAsync()
    {
        _server = await MotoServer.StartAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
