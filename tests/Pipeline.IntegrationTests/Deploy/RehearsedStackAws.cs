using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Pipeline.LocalAws.Moto;

namespace Pipeline.IntegrationTests.Deploy;

/// <summary>
/// Calls to the rehearsal's moto server that stand in for what moto does not do: create the
/// resources it skips (Athena::WorkGroup), queue Athena's canned results, add a stack of an older
/// template. moto checks no signature but routes by the Authorization header's credential scope,
/// so a well-formed header with a placeholder signature is enough.
/// </summary>
internal static class RehearsedStackAws
{
    public static HttpClient Http { get; } = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Creates the work group; one that exists already (an earlier test of the class) is left as it is.</summary>
    public static async Task CreateWorkGroupAsync(Uri endpoint, string name, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["Name"] = name,
            ["Configuration"] = new Dictionary<string, object> { ["EnforceWorkGroupConfiguration"] = true },
        });
        using var request = Signed(endpoint, "/", "athena", body, "application/x-amz-json-1.1");
        request.Headers.Add("X-Amz-Target", "AmazonAthena.CreateWorkGroup");
        using var response = await Http.SendAsync(request, cancellationToken);
        if ((int)response.StatusCode == 400 && (await response.Content.ReadAsStringAsync(cancellationToken)).Contains("already exists", StringComparison.Ordinal))
        {
            return;
        }

        await EnsureAsync(response, "Athena CreateWorkGroup", cancellationToken);
    }

    /// <summary>SES v2 CreateEmailIdentity (moto verifies it at once); one that exists already is left as it is.</summary>
    public static async Task CreateEmailIdentityAsync(Uri endpoint, string identity, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, string> { ["EmailIdentity"] = identity });
        using var request = Signed(endpoint, "/v2/email/identities", "ses", body, "application/json");
        using var response = await Http.SendAsync(request, cancellationToken);
        if ((int)response.StatusCode == 400 && (await response.Content.ReadAsStringAsync(cancellationToken)).Contains("exist", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        await EnsureAsync(response, "SES CreateEmailIdentity", cancellationToken);
    }

    /// <summary>Queues one canned result set (a header row, then one row per line) for the next query.</summary>
    public static async Task QueueAthenaLinesAsync(Uri endpoint, string column, IEnumerable<string> lines, CancellationToken cancellationToken)
    {
        var rows = new List<object> { Row(column) };
        rows.AddRange(lines.Select(Row));
        var canned = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["region"] = MotoServer.DefaultRegion,
            ["results"] = new[]
            {
                new Dictionary<string, object>
                {
                    ["rows"] = rows,
                    ["column_info"] = new[] { new Dictionary<string, string> { ["Name"] = column, ["Type"] = "varchar" } },
                },
            },
        });
        using var content = new StringContent(canned, Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(new Uri(endpoint, "/moto-api/static/athena/query-results"), content, cancellationToken);
        await EnsureAsync(response, "moto canned Athena results", cancellationToken);

        static object Row(string value) => new Dictionary<string, object> { ["Data"] = new[] { new Dictionary<string, string> { ["VarCharValue"] = value } } };
    }

    /// <summary>CreateStack with the given template (JSON) and no parameters.</summary>
    public static async Task CreateStackAsync(Uri endpoint, string name, string templateJson, CancellationToken cancellationToken)
    {
        var form = $"Action=CreateStack&Version=2010-05-15&StackName={Uri.EscapeDataString(name)}&TemplateBody={Uri.EscapeDataString(templateJson)}";
        using var request = Signed(endpoint, "/", "cloudformation", form, "application/x-www-form-urlencoded; charset=utf-8");
        using var response = await Http.SendAsync(request, cancellationToken);
        await EnsureAsync(response, "CloudFormation CreateStack", cancellationToken);
    }

    private static HttpRequestMessage Signed(Uri endpoint, string path, string service, string body, string contentType)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, path))
        {
            Content = new StringContent(body, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TryAddWithoutValidation(
            "Authorization",
            $"AWS4-HMAC-SHA256 Credential={MotoServer.AccessKeyId}/20260101/{MotoServer.DefaultRegion}/{service}/aws4_request, SignedHeaders=host, Signature=0");
        return request;
    }

    private static async Task EnsureAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new InvalidOperationException($"{what} answered {(int)response.StatusCode}: {text}");
        }
    }
}
