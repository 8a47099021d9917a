using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Aws.Athena;
using Pipeline.Aws.Configuration;
using Pipeline.Core.Graph;
using Pipeline.Functions.ServiceGraph;
using Pipeline.Lambda;
using Pipeline.Testing;
using Pipeline.LocalAws.Moto;

namespace Pipeline.Functions.Tests.ServiceGraph;

/// <summary>
/// The SQL engine's calls through the real Athena client against moto: moto accepts any SQL and
/// answers with results queued on /moto-api/static/athena/query-results, so this checks the
/// calls and the mapping of Athena's result rows, not the SQL itself (the DuckDB tests do that).
/// </summary>
public sealed class ServiceGraphAthenaMotoTests : IClassFixture<MotoFixture>
{
    private readonly MotoFixture _moto;

    public ServiceGraphAthenaMotoTests(MotoFixture moto)
    {
        _moto = moto;
    }

    [Fact]
    public async Task Handle_SqlEngineOnMotoAthena_GraphFromTheCannedRows()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = new HttpClient();
        var header = """{"Data": [{"VarCharValue": "row_kind"}, {"VarCharValue": "caller"}, {"VarCharValue": "caller_type"}, {"VarCharValue": "caller_kind"}, {"VarCharValue": "callee"}, {"VarCharValue": "callee_type"}, {"VarCharValue": "callee_kind"}, {"VarCharValue": "requests"}, {"VarCharValue": "ok"}, {"VarCharValue": "errors"}, {"VarCharValue": "throttles"}, {"VarCharValue": "faults"}, {"VarCharValue": "total_seconds"}, {"VarCharValue": "p50"}, {"VarCharValue": "p90"}, {"VarCharValue": "p99"}]}""";
        static string Row(params string?[] cells) =>
            "{\"Data\": [" + string.Join(", ", cells.Select(c => c is null ? "{}" : $"{{\"VarCharValue\": \"{c}\"}}")) + "]}";
        var columns = string.Join(", ", new[] { "row_kind", "caller", "caller_type", "caller_kind", "callee", "callee_type", "callee_kind", "requests", "ok", "errors", "throttles", "faults", "total_seconds", "p50", "p90", "p99" }
            .Select(c => $"{{\"Name\": \"{c}\", \"Type\": \"varchar\"}}"));
        var canned = $$$"""
            {"region": "{{{_moto.Region}}}", "results": [{
              "rows": [{{{header}}},
                {{{Row("edge", "client", "client", "client", "service-a", "service", "service", "10", "9", "0", "0", "1", "2.5", "0.2", "0.3", "0.4")}}},
                {{{Row("edge", "service-a", "service", "service", "service-b", "service", "service", "10", "8", "1", "0", "1", "1.5", "0.1", "0.2", "0.3")}}},
                {{{Row("node", "service-a", "service", "service", null, null, null, "10", "9", "0", "0", "1", "2.5", "0.2", "0.3", "0.4")}}},
                {{{Row("node", "service-b", "service", "service", null, null, null, "10", "9", "0", "0", "1", "1.2", "0.1", "0.2", "0.3")}}}
              ],
              "column_info": [{{{columns}}}]
            }]}
            """;
        using (var response = await http.PostAsync(new Uri(_moto.Endpoint, "/moto-api/static/athena/query-results"), new StringContent(canned, Encoding.UTF8, "application/json"), ct))
        {
            response.EnsureSuccessStatusCode();
        }

        var settings = new AwsSettings { Region = _moto.Region, EndpointUrl = _moto.Endpoint, AccessKeyId = MotoServer.AccessKeyId, SecretAccessKey = MotoServer.SecretAccessKey };
        var athena = AthenaClientFactory.Create(settings, http);
        var options = new ServiceGraphOptions { ArchiveBucket = "archive", Engine = GraphEngine.Sql, AthenaOutputLocation = "s3://athena-results/graph/" };
        var store = new InMemoryObjectStore();
        var handler = new ServiceGraphHandler(options, store, new AthenaGraphSqlEngine(athena, TimeProvider.System, options, TimeSpan.FromMilliseconds(200)));
        var time = new DateTimeOffset(2026, 11, 25, 13, 0, 5, TimeSpan.Zero);
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(
            $$$"""{"id":"e","detail-type":"Scheduled Event","source":"aws.events","time":"{{{time:yyyy-MM-ddTHH:mm:ssZ}}}","detail":{}}"""));

        await using var result = await handler.HandleAsync(input, new InvocationContext("r", time.AddMinutes(5), null, null, TimeProvider.System, NullLogger.Instance, ct));

        using var body = await JsonDocument.ParseAsync(result, cancellationToken: ct);
        body.RootElement.GetProperty("engine").GetString().Should().Be("sql");
        var doc = ServiceGraphJson.TryDeserialize((await store.GetAsync("archive", "graphs/dt=2026-11-25/20261125T1200Z-20261125T1300Z.json", ct))!)!;
        var a = doc.Services.Single(s => s.Name == "service-a");
        var b = doc.Services.Single(s => s.Name == "service-b");
        var ab = a.Edges.Single(e => e.ReferenceId == b.ReferenceId);
        (ab.SummaryStatistics.TotalCount, ab.SummaryStatistics.OkCount, ab.SummaryStatistics.ErrorStatistics.OtherCount, ab.SummaryStatistics.FaultStatistics.TotalCount)
            .Should().Be((10, 8, 1, 1));
        ab.Percentiles.P99.Should().Be(0.3);
        b.SummaryStatistics!.TotalCount.Should().Be(10);
        a.Root.Should().BeTrue();
    }
}
