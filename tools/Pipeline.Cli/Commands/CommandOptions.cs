using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using Pipeline.Runtime.Configuration;

namespace Pipeline.Cli.Commands;

/// <summary>Options shared by the local-mode commands, and parsers for addresses and durations.</summary>
internal static class CommandOptions
{
    public static Option<string?> StateDir() => new("--state-dir")
    {
        Description = "Local-mode state (stack.json, logs, archive mirror); default $PIPELINE_STATE_DIR or .pipeline/ at the repository root",
    };

    /// <summary>The deployed stack the Athena and verify commands read their outputs from.</summary>
    public static Option<string?> Stack() => new("--stack")
    {
        Description = "CloudFormation stack deployed by `sam deploy` (default: stack_name in samconfig.toml)",
    };

    public static Option<IPEndPoint> Endpoint(string name, string description, string defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => IPEndPoint.Parse(defaultValue),
        CustomParser = ParseEndpoint,
        HelpName = "host:port",
    };

    /// <summary>
    /// An address flag that also takes <c>off</c> (case-insensitive): <see cref="EndpointOrOff.Endpoint"/> is then null.
    /// (A custom parser cannot return null for a value it was given: the parser would then convert the token itself.)
    /// </summary>
    public static Option<EndpointOrOff> OptionalEndpoint(string name, string description, string defaultValue) => new(name)
    {
        Description = description + " ('off' disables it)",
        DefaultValueFactory = _ => new EndpointOrOff(IPEndPoint.Parse(defaultValue)),
        CustomParser = r => r.Tokens.Count > 0 && string.Equals(r.Tokens[0].Value, "off", StringComparison.OrdinalIgnoreCase) ? new EndpointOrOff(null) : new EndpointOrOff(ParseEndpoint(r)),
        HelpName = "host:port|off",
    };

    /// <summary>A duration flag in the one grammar (<see cref="Durations"/>: 500ms, 30s, 5m, 1h): text on the command line and in help, checked at parse time.</summary>
    public static Option<string> Duration(string name, string description, TimeSpan defaultValue)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            DefaultValueFactory = _ => Durations.Format(defaultValue),
            HelpName = "duration",
        };
        option.Validators.Add(result =>
        {
            if (!Durations.TryParse(result.GetValueOrDefault<string>(), out var value, out var error))
            {
                result.AddError($"{name}: {error}");
            }
            else if (value <= TimeSpan.Zero)
            {
                result.AddError($"{name}: must be longer than 0");
            }
        });
        return option;
    }

    /// <summary>An integer flag with bounds checked at parse time.</summary>
    public static Option<int> Bounded(string name, string description, int defaultValue, int min, int max)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is var value && (value < min || value > max))
            {
                result.AddError($"{name} must be between {min} and {max}");
            }
        });
        return option;
    }

    public static TimeSpan GetDuration(this ParseResult parse, Option<string> option) =>
        Durations.TryParse(parse.GetValue(option), out var value, out _) ? value : throw new InvalidOperationException($"{option.Name} was not validated");

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

}

/// <summary>The value of an address flag that may be <c>off</c>: the address, or null when off.</summary>
internal readonly record struct EndpointOrOff(IPEndPoint? Endpoint)
{
    public override string ToString() => Endpoint?.ToString() ?? "off";
}
