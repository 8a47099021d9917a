namespace Pipeline.Cli.Deployed;

/// <summary>
/// The one setting the CLI takes from <c>samconfig.toml</c>: the stack name <c>sam deploy</c>
/// uses, so that <c>--stack</c> can default to it. SAM CLI reads <c>stack_name</c> from
/// <c>[&lt;env&gt;.deploy.parameters]</c>, else <c>[&lt;env&gt;.global.parameters]</c> (SAM CLI
/// "configuration file" docs); only that key of those two tables is read here, so this is a
/// reader of TOML's table headers and basic string values, not of TOML at large.
/// </summary>
internal static class SamConfig
{
    public const string FileName = "samconfig.toml";

    /// <summary>SAM CLI's default environment (<c>--config-env</c>).</summary>
    public const string DefaultEnvironment = "default";

    /// <summary>The nearest samconfig.toml at or above <paramref name="startDirectory"/>, or null.</summary>
    public static string? Locate(string startDirectory)
    {
        for (var dir = new DirectoryInfo(startDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, FileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The environment's stack_name (deploy table first, then global), or null when neither sets it.</summary>
    public static string? StackName(string toml, string environment = DefaultEnvironment)
    {
        ArgumentNullException.ThrowIfNull(toml);
        string? table = null;
        string? fromDeploy = null;
        string? fromGlobal = null;
        foreach (var raw in toml.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (line[0] == '[')
            {
                var end = line.IndexOf(']', StringComparison.Ordinal);
                table = end > 1 ? line[1..end].Trim() : null;
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || line[..eq].Trim() != "stack_name" || BasicString(line[(eq + 1)..]) is not { } value)
            {
                continue;
            }

            if (table == environment + ".deploy.parameters")
            {
                fromDeploy = value;
            }
            else if (table == environment + ".global.parameters")
            {
                fromGlobal = value;
            }
        }

        return fromDeploy ?? fromGlobal;
    }

    // "name" or 'name' with an optional trailing comment; stack names have no escapes to decode.
    private static string? BasicString(string text)
    {
        var value = text.Trim();
        if (value.Length < 2 || (value[0] != '"' && value[0] != '\''))
        {
            return null;
        }

        var close = value.IndexOf(value[0], 1);
        return close > 1 ? value[1..close] : null;
    }
}
