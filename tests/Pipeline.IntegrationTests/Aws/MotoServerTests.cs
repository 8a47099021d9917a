using System.Net;
using Pipeline.Testing;
using Pipeline.LocalAws.Moto;

namespace Pipeline.IntegrationTests.Aws;

/// <summary>The moto fixture itself: start, answer, reset, data.json, clean stop, clear failures.</summary>
public sealed class MotoServerTests
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false });

    [Fact]
    public async Task StartAsync_Default_AnswersOnLoopbackAndStopsOnDispose()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = await MotoServer.StartAsync(ct);
        int pid;
        IReadOnlyList<int> children;
        await using (server)
        {
            pid = server.ProcessId;
            children = ChildrenOf(pid);
            children.Should().NotBeEmpty("moto_server runs under a watchdog shell");
            server.Endpoint.Host.Should().Be("127.0.0.1");
            server.Endpoint.Port.Should().BeGreaterThan(0);
            server.Region.Should().Be("us-east-1");
            server.EnvironmentVariables["AWS_ENDPOINT_URL"].Should().Be(server.Endpoint.ToString().TrimEnd('/'));
            server.EnvironmentVariables["AWS_ACCESS_KEY_ID"].Should().Be("testing");

            using var response = await Http.GetAsync(new Uri(server.Endpoint, "/moto-api/"), ct);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            server.IsRunning.Should().BeTrue();
        }

        server.IsRunning.Should().BeFalse();
        ProcessIsGone(pid).Should().BeTrue();
        children.Should().AllSatisfy(child => ProcessIsGone(child).Should().BeTrue());
        var act = async () => await Http.GetAsync(new Uri(server.Endpoint, "/moto-api/"), ct);
        await act.Should().ThrowAsync<HttpRequestException>();
    }

    [Fact]
    public async Task StartAsync_TwoServers_GetDistinctPortsAndStores()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var first = await MotoServer.StartAsync(ct);
        await using var second = await MotoServer.StartAsync(ct);

        first.Endpoint.Port.Should().NotBe(second.Endpoint.Port);
        first.ProcessId.Should().NotBe(second.ProcessId);
        await CreateBucketAsync(first, "only-in-first", ct);

        (await first.ReadDataJsonAsync(ct)).GetRawText().Should().Contain("only-in-first");
        (await second.ReadDataJsonAsync(ct)).GetRawText().Should().NotContain("only-in-first");
    }

    [Fact]
    public async Task ResetAsync_AfterCreatingABucket_ForgetsIt()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await MotoServer.StartAsync(ct);
        await CreateBucketAsync(server, "reset-me", ct);
        (await server.ReadDataJsonAsync(ct)).GetRawText().Should().Contain("reset-me");

        await server.ResetAsync(ct);

        (await server.ReadDataJsonAsync(ct)).GetRawText().Should().NotContain("reset-me");
    }

    [Fact]
    public async Task StartAsync_MissingExecutable_FailsNamingIt()
    {
        var act = () => MotoServer.StartAsync("moto_server_that_does_not_exist", TestContext.Current.CancellationToken);

        var error = await act.Should().ThrowAsync<InvalidOperationException>();
        error.Which.Message.Should().Contain("moto_server_that_does_not_exist").And.Contain("tests/setup");
    }

    [Fact]
    public async Task StartAsync_ExecutableThatExits_FailsWithItsStderrTail()
    {
        // /bin/sh rejects moto's "-H" flag: it writes to stderr and exits at once.
        var act = () => MotoServer.StartAsync("/bin/sh", TestContext.Current.CancellationToken);

        var error = await act.Should().ThrowAsync<InvalidOperationException>();
        error.Which.Message.Should().Contain("exited with code").And.Contain("-H");
    }

    [Fact]
    public void UniqueName_ManyCalls_AreDistinctAndValidBucketNames()
    {
        var names = Enumerable.Range(0, 200).Select(_ => MotoFixture.UniqueName("My_Stream.Name")).ToList();

        names.Should().OnlyHaveUniqueItems();
        names.Should().AllSatisfy(n =>
        {
            n.Should().MatchRegex("^[a-z][a-z0-9-]{2,62}$");
            n.Should().StartWith("my-stream-name-");
        });
        MotoFixture.UniqueName(new string('x', 100)).Length.Should().BeLessThanOrEqualTo(63);
    }

    private static async Task CreateBucketAsync(MotoServer server, string bucket, CancellationToken ct)
    {
        // No Authorization header routes to S3 in moto, which is all this fixture test needs.
        using var response = await Http.PutAsync(new Uri(server.Endpoint, "/" + bucket), content: null, ct);
        response.EnsureSuccessStatusCode();
    }

    private static List<int> ChildrenOf(int pid)
    {
        var path = $"/proc/{pid}/task/{pid}/children";
        return File.Exists(path)
            ? File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList()
            : [];
    }

    // Gone = no such process, or a zombie (killed; reaping by init is asynchronous). Polled
    // briefly because SIGKILL delivery and exit are asynchronous too.
    private static bool ProcessIsGone(int pid)
    {
        for (var i = 0; i < 50; i++)
        {
            var stat = $"/proc/{pid}/stat";
            if (!File.Exists(stat))
            {
                return true;
            }

            try
            {
                var text = File.ReadAllText(stat);
                var state = text[(text.LastIndexOf(')') + 2)..].Split(' ')[0];
                if (state is "Z" or "X")
                {
                    return true;
                }
            }
            catch (IOException)
            {
                return true;
            }

            Thread.Sleep(100);
        }

        return false;
    }
}
