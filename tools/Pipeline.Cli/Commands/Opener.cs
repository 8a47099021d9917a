using System.ComponentModel;
using System.Diagnostics;

namespace Pipeline.Cli.Commands;

/// <summary>Shows a file to the user with the desktop's opener (xdg-open); silently nothing where there is none.</summary>
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
}
