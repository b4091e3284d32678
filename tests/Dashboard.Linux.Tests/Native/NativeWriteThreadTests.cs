using System.Text;
using Dashboard.Linux.Native;

namespace Dashboard.Linux.Tests.Native;

public sealed class NativeWriteThreadTests
{
    [Fact]
    public void TryStart_WritesTheDataOnceAndJoinClosesTheFd()
    {
        var (read, write) = Sys.Pipe();
        try
        {
            var thread = NativeWriteThread.TryStart(write, "4242"u8);

            Assert.NotNull(thread);
            Assert.True(thread.TryJoin(5000));
            Assert.Equal("4242", ReadToEnd(read));
        }
        finally
        {
            Sys.Close(read);
        }
    }

    [Fact]
    public void TryJoin_WriteStillBlocked_TimesOutUntilItCompletes()
    {
        var (read, write) = Sys.Pipe();
        try
        {
            // Fill the pipe so that the thread's write blocks until it is drained.
            Sys.Fcntl(write, OpenFlags.F_SETFL, OpenFlags.O_NONBLOCK);
            var chunk = new byte[4096];
            var filled = 0;
            while (TryWrite(write, chunk))
            {
                filled += chunk.Length;
            }

            Sys.Fcntl(write, OpenFlags.F_SETFL, 0);
            var thread = NativeWriteThread.TryStart(write, "tail"u8);
            Assert.NotNull(thread);

            Assert.False(thread.TryJoin(50));

            var text = ReadExactly(read, filled + 4);
            Assert.True(thread.TryJoin(5000));
            Assert.EndsWith("tail", text, StringComparison.Ordinal);
            Assert.Equal("", ReadToEnd(read));
        }
        finally
        {
            Sys.Close(read);
        }
    }

    [Fact]
    public void TryStart_TooMuchData_ClosesTheFdAndReturnsNull()
    {
        var (read, write) = Sys.Pipe();
        try
        {
            Assert.Null(NativeWriteThread.TryStart(write, new byte[5000]));
            Assert.Equal("", ReadToEnd(read));
        }
        finally
        {
            Sys.Close(read);
        }
    }

    private static bool TryWrite(int fd, byte[] data)
    {
        try
        {
            Sys.WriteAll(fd, data);
            return true;
        }
        catch (SyscallException e) when (e.Errno == Errno.EAGAIN)
        {
            return false;
        }
    }

    private static string ReadExactly(int fd, int count)
    {
        var text = new StringBuilder();
        var buffer = new byte[65536];
        while (text.Length < count)
        {
            var n = Sys.Read(fd, buffer.AsSpan(0, Math.Min(buffer.Length, count - text.Length)));
            Assert.True(n > 0, "the pipe ended early");
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        return text.ToString();
    }

    // Reads until EOF: the write end is closed by the thread's join (or by TryStart's failure path).
    private static string ReadToEnd(int fd)
    {
        var text = new StringBuilder();
        var buffer = new byte[65536];
        int n;
        while ((n = Sys.Read(fd, buffer)) > 0)
        {
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        return text.ToString();
    }
}
