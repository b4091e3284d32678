using System.Text;

namespace Dashboard.Linux.Native;

/// <summary>Unix-domain sockets at the fd level: connect, listen, and passing fds with SCM_RIGHTS.</summary>
public static unsafe class UnixSocket
{
    private const int SOL_SOCKET = 1;
    private const int SCM_RIGHTS = 1;
    private const int MSG_CMSG_CLOEXEC = 0x40000000;

    private static int FillAddress(byte* addr, string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= 108)
        {
            throw new SyscallException("connect", Errno.ENAMETOOLONG, path);
        }

        *(ushort*)addr = Sys.AF_UNIX;
        for (var i = 0; i < bytes.Length; i++)
        {
            addr[2 + i] = bytes[i];
        }

        addr[2 + bytes.Length] = 0;
        return 2 + bytes.Length + 1;
    }

    public static int Connect(string path, int type = Sys.SOCK_STREAM)
    {
        var fd = LibC.socket(Sys.AF_UNIX, type | Sys.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw SyscallException.FromLastError("socket", path);
        }

        var addr = stackalloc byte[110];
        var len = FillAddress(addr, path);
        if (LibC.connect(fd, addr, len) != 0)
        {
            var e = SyscallException.FromLastError("connect", path);
            Sys.Close(fd);
            throw e;
        }

        return fd;
    }

    public static int Listen(string path, int backlog = 16)
    {
        var fd = LibC.socket(Sys.AF_UNIX, Sys.SOCK_STREAM | Sys.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw SyscallException.FromLastError("socket", path);
        }

        var addr = stackalloc byte[110];
        var len = FillAddress(addr, path);
        if (LibC.bind(fd, addr, len) != 0 || LibC.listen(fd, backlog) != 0)
        {
            var e = SyscallException.FromLastError("bind", path);
            Sys.Close(fd);
            throw e;
        }

        return fd;
    }

    public static int Accept(int listenFd)
    {
        while (true)
        {
            var fd = LibC.accept4(listenFd, null, null, Sys.SOCK_CLOEXEC);
            if (fd >= 0)
            {
                return fd;
            }

            var errno = Sys.LastErrno;
            if (errno != Errno.EINTR)
            {
                throw new SyscallException("accept", errno);
            }
        }
    }

    /// <summary>Sends <paramref name="payload"/> with one fd attached (SCM_RIGHTS).</summary>
    public static void SendFd(int socket, int fd, ReadOnlySpan<byte> payload)
    {
        var control = stackalloc byte[24];
        new Span<byte>(control, 24).Clear();
        *(ulong*)control = 20; // cmsg_len = CMSG_LEN(sizeof(int))
        *(int*)(control + 8) = SOL_SOCKET;
        *(int*)(control + 12) = SCM_RIGHTS;
        *(int*)(control + 16) = fd;
        var data = payload.Length == 0 ? [0] : payload.ToArray();
        fixed (byte* d = data)
        {
            var iov = new IoVec { Base = d, Len = (nuint)data.Length };
            var msg = new MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = 24 };
            if (LibC.sendmsg(socket, &msg, 0) < 0)
            {
                throw SyscallException.FromLastError("sendmsg");
            }
        }
    }

    /// <summary>Receives a message and one attached fd (close-on-exec); returns -1 as fd when none came.</summary>
    public static (int Fd, byte[] Payload) ReceiveFd(int socket, int maxPayload = 4096)
    {
        var control = stackalloc byte[64];
        var data = new byte[maxPayload];
        fixed (byte* d = data)
        {
            var iov = new IoVec { Base = d, Len = (nuint)data.Length };
            var msg = new MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = 64 };
            nint n;
            while ((n = LibC.recvmsg(socket, &msg, MSG_CMSG_CLOEXEC)) < 0)
            {
                var errno = Sys.LastErrno;
                if (errno != Errno.EINTR)
                {
                    throw new SyscallException("recvmsg", errno);
                }
            }

            var fd = -1;
            if (msg.ControlLen >= 20 && *(int*)(control + 8) == SOL_SOCKET && *(int*)(control + 12) == SCM_RIGHTS)
            {
                fd = *(int*)(control + 16);
            }

            return (fd, data.AsSpan(0, (int)n).ToArray());
        }
    }

    /// <summary>The peer's pid, uid and gid (SO_PEERCRED).</summary>
    public static (int Pid, uint Uid, uint Gid) PeerCredentials(int socket)
    {
        const int SO_PEERCRED = 17;
        var cred = stackalloc int[3];
        var len = 12;
        if (getsockopt(socket, SOL_SOCKET, SO_PEERCRED, cred, &len) != 0)
        {
            throw SyscallException.FromLastError("getsockopt");
        }

        return (cred[0], (uint)cred[1], (uint)cred[2]);
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int getsockopt(int fd, int level, int name, void* value, int* len);
}
