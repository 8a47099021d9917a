using Microsoft.Extensions.Time.Testing;
using Pipeline.Cli.Query;
using Pipeline.Cli.Ui;
using Pipeline.Testing;

namespace Pipeline.Cli.Tests.Ui;

/// <summary>The UI server on a free loopback port over a <see cref="UiTestArchive"/>, with the clock at <see cref="UiTestArchive.Now"/>.</summary>
public sealed class UiServerFixture : IAsyncLifetime
{
    private UiServer? _server;
    private UiArchive? _archive;

    public UiTestArchive Archive { get; } = new();

    public Uri Address => _server?.Address ?? throw new InvalidOperationException("not started");

    public HttpClient Http { get; } = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });

    public async ValueTask InitializeAsync()
    {
        _archive = new UiArchive(Archive.Root, AthenaSqlFiles.Locate(RepoPaths.Root).Tables());
        _server = await UiServer.StartAsync(_archive, new FakeTimeProvider(UiTestArchive.Now), port: 0, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _archive?.Dispose();
        Archive.Dispose();
    }

    public Uri Url(string pathAndQuery) => new(Address, pathAndQuery);
}
