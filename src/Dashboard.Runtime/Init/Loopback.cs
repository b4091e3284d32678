using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Init;

/// <summary>
/// Brings <c>lo</c> up in a network namespace the runtime made itself (a <c>network</c> entry without
/// a path), as crun does (libcrun_configure_network): a new namespace's loopback starts down, so
/// 127.0.0.1 would be unreachable, and callers such as the engine's <c>NetworkMode=none</c> would
/// otherwise need a namespace made outside the runtime plus the CNI loopback plugin.
/// </summary>
internal static unsafe class Loopback
{
    private const nuint SIOCSIFFLAGS = 0x8914;
    private const short IFF_UP = 0x1;
    private const short IFF_RUNNING = 0x40;
    private const int IfNameSize = 16;
    private const int IfreqSize = 40;

    public static void UpInNewNetworkNamespace(Spec spec)
    {
        if (spec.Linux?.Namespaces?.Exists(n => n.Type == "network" && string.IsNullOrEmpty(n.Path)) != true)
        {
            return;
        }

        // Any socket's unknown ioctl falls through to dev_ioctl in the socket's network namespace
        // (net/socket.c sock_do_ioctl), so an AF_UNIX pair serves and needs no inet support in the kernel.
        var (a, b) = Sys.SocketPair(Sys.SOCK_STREAM);
        try
        {
            var ifreq = stackalloc byte[IfreqSize];
            new Span<byte>(ifreq, IfreqSize).Clear();
            "lo"u8.CopyTo(new Span<byte>(ifreq, IfNameSize));
            *(short*)(ifreq + IfNameSize) = IFF_UP | IFF_RUNNING;
            Sys.Ioctl(a, SIOCSIFFLAGS, (nint)ifreq, "lo");
        }
        finally
        {
            Sys.Close(a);
            Sys.Close(b);
        }
    }
}
