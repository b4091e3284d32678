using System.Diagnostics;
using Dashboard.Linux.Native;

namespace Dashboard.Engine.Networking;

/// <summary>
/// The host-side pieces CNI leaves to the runtime: persistent network namespace files and the
/// bridge devices of our networks. The engine never unshares itself (DESIGN.md §2), so a namespace
/// is made by util-linux <c>unshare --net=FILE</c>, which bind-mounts the new namespace onto FILE
/// and exits; the namespace lives as long as that mount or a process inside it.
/// </summary>
public static class HostNetwork
{
    private const int MntDetach = 2;
    private const int Enoent = 2;
    private const int Einval = 22;

    public static async Task CreateNamespaceAsync(string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        RemoveNamespace(path);
        await using (File.Create(path))
        {
        }

        try
        {
            await RunAsync("unshare", ["--net=" + path, "true"], cancellationToken);
        }
        catch
        {
            RemoveNamespace(path);
            throw;
        }
    }

    /// <summary>Binds an existing namespace (<c>/proc/PID/ns/net</c>) to a file, so it outlives that process.</summary>
    public static void PinNamespace(string source, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        RemoveNamespace(path);
        File.Create(path).Dispose();
        Sys.Mount(source, path, null, MountFlags.MS_BIND, null);
    }

    /// <summary>Unmounts and deletes a namespace file; missing files and plain (unmounted) files are fine.</summary>
    public static void RemoveNamespace(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }

        try
        {
            Sys.Umount(path, MntDetach);
        }
        catch (Dashboard.Linux.SyscallException e) when (e.Errno is Einval or Enoent)
        {
        }

        File.Delete(path);
    }

    public static bool IsNamespaceMounted(string path) =>
        File.Exists("/proc/self/mountinfo") && File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ') is { Length: > 4 } f && f[4] == path);

    public static bool LinkExists(string name) => Directory.Exists(Path.Combine("/sys/class/net", name));

    /// <summary>Creates the bridge with its gateway address and brings it up, so its route is visible to other engines at once.</summary>
    public static async Task CreateBridgeAsync(string name, string gatewayCidr, CancellationToken cancellationToken)
    {
        await RunAsync("ip", ["link", "add", "name", name, "type", "bridge"], cancellationToken);
        try
        {
            // No IPv6 link-local address appears when the first port brings the bridge's carrier up: the
            // networks are IPv4-only, and a host address change aborts browsers' connections (ERR_NETWORK_CHANGED).
            var ipv6 = Path.Combine("/proc/sys/net/ipv6/conf", name, "disable_ipv6");
            if (File.Exists(ipv6))
            {
                File.WriteAllText(ipv6, "1");
            }

            await RunAsync("ip", ["addr", "add", gatewayCidr, "dev", name], cancellationToken);
            await RunAsync("ip", ["link", "set", "dev", name, "up"], cancellationToken);
        }
        catch
        {
            await DeleteLinkAsync(name, CancellationToken.None);
            throw;
        }
    }

    public static async Task DeleteLinkAsync(string name, CancellationToken cancellationToken)
    {
        if (LinkExists(name))
        {
            await RunAsync("ip", ["link", "del", "dev", name], cancellationToken);
        }
    }

    private static async Task RunAsync(string tool, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new EngineException(ErrorKind.Internal, $"{tool}: no process");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new EngineException(ErrorKind.Unsupported, $"{tool}: {e.Message} (install util-linux and iproute2)", e);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            await process.WaitForExitAsync(cancellationToken);
            await stdout;
            var error = (await stderr).Trim();
            if (process.ExitCode != 0)
            {
                throw new EngineException(ErrorKind.Internal, $"{tool} {string.Join(' ', args)}: {(error.Length > 0 ? error : "exit code " + process.ExitCode)}");
            }
        }
    }
}
