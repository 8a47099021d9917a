using System.Text;
using System.Text.Json;
using Pipeline.Aws;
using Pipeline.Aws.Configuration;
using Pipeline.Aws.Ses;
using Pipeline.Runtime.Configuration;
using Pipeline.Testing;
using Pipeline.LocalAws.Moto;

namespace Pipeline.IntegrationTests.Aws;

/// <summary>
/// SES v2 raw mail against moto; sent mail is read back from /moto-api/data.json. That endpoint
/// answers 500 once the server holds state it cannot serialise (a Lambda function, a segment with a
/// malformed trace id: see MOTO.md), which other tests in this assembly create on the shared server,
/// so this class runs its own moto_server.
/// </summary>
public sealed class SesClientMotoTests : IAsyncLifetime
{
    private readonly CancellationToken _ct = TestContext.Current.CancellationToken;
    private MotoServer? _moto;
    private AwsClients? _awsClients;

    private MotoServer Moto => _moto ?? throw new InvalidOperationException("not initialized");

    private AwsClients Aws => _awsClients ?? throw new InvalidOperationException("not initialized");

    public async ValueTask InitializeAsync()
    {
        _moto = await MotoServer.StartAsync(_ct);
        _awsClients = AwsClients.Create(AwsSettings.FromEnvironment(new DictionaryEnvironment(_moto.EnvironmentVariables)), MotoAws.Http);
    }

    public async ValueTask DisposeAsync()
    {
        _awsClients?.Dispose();
        if (_moto is not null)
        {
            await _moto.DisposeAsync();
        }
    }

    [Fact]
    public async Task CreateEmailIdentity_NewAddress_IsAnEmailIdentity()
    {
        var result = await Aws.Ses.CreateEmailIdentityAsync($"{MotoFixture.UniqueName("ops")}@example.com", _ct);

        result.IdentityType.Should().Be("EMAIL_ADDRESS");
    }

    [Fact]
    public async Task SendRawEmail_AfterCreatingTheIdentity_IsStoredWholeWithItsDestinations()
    {
        var from = $"{MotoFixture.UniqueName("reports")}@example.com";
        var to = $"{MotoFixture.UniqueName("team")}@example.com";
        var marker = MotoFixture.UniqueName("marker");
        await Aws.Ses.CreateEmailIdentityAsync(from, _ct);
        var mime = Encoding.ASCII.GetBytes(
            $"From: {from}\r\nTo: {to}\r\nSubject: X-Ray cost report\r\nMIME-Version: 1.0\r\n"
            + $"Content-Type: text/html; charset=utf-8\r\n\r\n<p>{marker}</p>\r\n");

        var messageId = await Aws.Ses.SendRawEmailAsync(new RawEmail(mime, from, [to]), _ct);

        messageId.Should().NotBeNullOrEmpty();
        var data = await Moto.ReadDataJsonAsync(_ct);
        var sent = RawMessages(data).Where(m => m.GetProperty("raw_data").GetString()!.Contains(marker, StringComparison.Ordinal)).ToList();
        sent.Should().ContainSingle();
        sent[0].GetProperty("raw_data").GetString().Should().Contain("Subject: X-Ray cost report");
        sent[0].GetProperty("destinations").GetRawText().Should().Contain(to);
        sent[0].GetProperty("source").GetString().Should().Be(from);
    }

    [Fact]
    public async Task SendRawEmail_UnverifiedSender_IsRejectedWithoutRetry()
    {
        var from = $"{MotoFixture.UniqueName("nobody")}@unverified.example";
        var mime = Encoding.ASCII.GetBytes($"From: {from}\r\nTo: a@example.com\r\nSubject: x\r\n\r\nbody\r\n");

        var act = () => Aws.Ses.SendRawEmailAsync(new RawEmail(mime, from, ["a@example.com"]), _ct);

        var error = await act.Should().ThrowAsync<Pipeline.Aws.Http.AwsServiceException>();
        error.Which.IsRetryable.Should().BeFalse();
    }

    // data.json: { "ses": { "RawMessage": { "<account>": { "<region>": [ {raw_data, destinations, source, ...} ] } } } }
    // The nesting under RawMessage has varied between moto versions, so collect every object with raw_data.
    private static List<JsonElement> RawMessages(JsonElement data)
    {
        if (!data.TryGetProperty("ses", out var ses) || !ses.TryGetProperty("RawMessage", out var raw))
        {
            return [];
        }

        var found = new List<JsonElement>();
        Collect(raw, found, depth: 0);
        return found;
    }

    private static void Collect(JsonElement element, List<JsonElement> found, int depth)
    {
        if (depth > 8)
        {
            return;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object when element.TryGetProperty("raw_data", out _):
                found.Add(element);
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Collect(property.Value, found, depth + 1);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, found, depth + 1);
                }

                break;
        }
    }
}
