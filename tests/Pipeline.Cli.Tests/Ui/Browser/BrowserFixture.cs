using Microsoft.Playwright;

namespace Pipeline.Cli.Tests.Ui.Browser;

/// <summary>
/// One headless Chromium per test class: the machine's Debian chromium (tests/setup installs it),
/// driven by Microsoft.Playwright; Playwright's own browser download is never used.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Generous: the shared CI machine is slow; every wait is on an element, never a sleep.</summary>
    public const float TimeoutMs = 60_000;

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where the tests put their screenshots (docs/screenshots holds a committed set).</summary>
    public static string ScreenshotDir { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: run tests/setup (it installs Debian's chromium)");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            Timeout = TimeoutMs,
        });
        Directory.CreateDirectory(ScreenshotDir);
    }

    /// <summary>A fresh context and page (own cookies and cache), with the fixture's timeouts.</summary>
    public async Task<IPage> NewPageAsync(bool bypassCsp = false)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 }, BypassCSP = bypassCsp });
        context.SetDefaultTimeout(TimeoutMs);
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
