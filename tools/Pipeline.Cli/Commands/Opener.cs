using System.ComponentModel;
using System.Diagnostics;

namespace Pipeline.Cli.Commands;

/// <summary>Shows a file to the user with the desktop's opener (xdg-open); silently nothing where there is none. Also asks the terminal its width.</summary>
internal static class Opener
{
    public static void Open(string path)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("xdg-open") { ArgumentList = { path }, UseShellExecute = false, RedirectStandardError = true });
        }
        catch (Win32Exception)
        {
            // No xdg-open (a server or a container): the path is printed anyway.
        }
    }

    /// <summary>The terminal's width in columns, or null when there is no console to ask.</summary>
    public static int? TerminalWidth()
    {
        try
        {
            return Console.WindowWidth > 0 ? Console.WindowWidth : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
