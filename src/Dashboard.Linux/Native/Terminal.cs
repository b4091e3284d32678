using System.Runtime.InteropServices;

namespace Dashboard.Linux.Native;

/// <summary>Pseudo-terminals for <c>process.terminal</c>.</summary>
public static unsafe class Terminal
{
    private const nuint TIOCSCTTY = 0x540E;
    private const nuint TIOCSWINSZ = 0x5414;
    private const nuint TIOCGWINSZ = 0x5413;
    private const nuint TIOCSPTLCK = 0x40045431;
    private const nuint TIOCGPTN = 0x80045430;
    private const nuint TIOCGPTPEER = 0x5441;

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Cols;
        public ushort XPixel;
        public ushort YPixel;
    }

    /// <summary>
    /// Opens a pty pair from the ptmx at <paramref name="ptmxPath"/>. The peer is opened from the
    /// master with TIOCGPTPEER, never by its /dev/pts/N path, so a swapped /dev/pts entry cannot
    /// hand us another file (CVE-2025-52565).
    /// </summary>
    public static (int Master, int Peer, int Number) OpenPty(string ptmxPath = "/dev/ptmx")
    {
        var master = Sys.Open(ptmxPath, OpenFlags.O_RDWR | OpenFlags.O_NOCTTY);
        try
        {
            int unlock = 0;
            Sys.Ioctl(master, TIOCSPTLCK, (nint)(&unlock), ptmxPath);
            int number;
            Sys.Ioctl(master, TIOCGPTN, (nint)(&number), ptmxPath);
            var peer = LibC.ioctl(master, TIOCGPTPEER, OpenFlags.O_RDWR | OpenFlags.O_NOCTTY | OpenFlags.O_CLOEXEC);
            if (peer < 0)
            {
                throw SyscallException.FromLastError("ioctl TIOCGPTPEER", ptmxPath);
            }

            return (master, peer, number);
        }
        catch
        {
            Sys.Close(master);
            throw;
        }
    }

    public static void SetControllingTerminal(int fd) => Sys.Ioctl(fd, TIOCSCTTY, 0, "tty");

    public static void SetWindowSize(int fd, ushort rows, ushort cols)
    {
        var ws = new WinSize { Rows = rows, Cols = cols };
        Sys.Ioctl(fd, TIOCSWINSZ, (nint)(&ws), "tty");
    }

    public static (ushort Rows, ushort Cols) GetWindowSize(int fd)
    {
        WinSize ws;
        return LibC.ioctl(fd, TIOCGWINSZ, (nint)(&ws)) == 0 ? (ws.Rows, ws.Cols) : ((ushort)0, (ushort)0);
    }

    /// <summary>Puts a terminal fd in raw mode (cfmakeraw) and returns the previous settings to restore.</summary>
    public static byte[]? MakeRaw(int fd)
    {
        var old = new byte[60];
        fixed (byte* p = old)
        {
            if (tcgetattr(fd, p) != 0)
            {
                return null;
            }
        }

        var raw = (byte[])old.Clone();
        fixed (byte* p = raw)
        {
            cfmakeraw(p);
            _ = tcsetattr(fd, 0, p);
        }

        return old;
    }

    public static void Restore(int fd, byte[] settings)
    {
        fixed (byte* p = settings)
        {
            _ = tcsetattr(fd, 0, p);
        }
    }

    [DllImport("libc")] private static extern int tcgetattr(int fd, byte* termios);
    [DllImport("libc")] private static extern int tcsetattr(int fd, int action, byte* termios);
    [DllImport("libc")] private static extern void cfmakeraw(byte* termios);
}
