using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using Pipeline.Cli.Local;

namespace Pipeline.Cli.Commands;

/// <summary>Options shared by the local-mode commands, and parsers for addresses and durations.</summary>
internal static class CommandOptions
{
    public static Option<string?> StateDir() => new("--state-dir")
    {
        Description = "Local-mode state (stack.json, logs, archive mirror); default $PIPELINE_STATE_DIR or .pipeline/ at the repository root",
    };

    public static Option<IPEndPoint> Endpoint(string name, string description, string defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => IPEndPoint.Parse(defaultValue),
        CustomParser = ParseEndpoint,
        HelpName = "host:port",
    };

    public static Option<TimeSpan> Duration(string name, string description, TimeSpan defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = ParseDuration,
        HelpName = "duration",
    };

    public static IPEndPoint ParseEndpoint(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (IPEndPoint.TryParse(text, out var endpoint) && text.Contains(':', StringComparison.Ordinal))
        {
            return endpoint;
        }

        result.AddError($"'{text}' is not an address: use host:port, e.g. 127.0.0.1:2000");
        return new IPEndPoint(IPAddress.Loopback, 0);
    }

    public static TimeSpan ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (Durations.TryParse(text, out var value))
        {
            return value;
        }

        result.AddError($"'{text}' is not a duration: use e.g. 500ms, 30s, 5m or 1h");
        return TimeSpan.Zero;
    }
}
