using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Tests.Integration;

/// <summary>
/// SCMP_ACT_NOTIFY: the runtime sends the listener fd with the container process state to
/// <c>linux.seccomp.listenerPath</c>; a listener in the test answers the container's calls.
/// </summary>
[Trait("Requires", "root")]
public sealed unsafe class SeccompNotifyTests : IDisposable
{
    // SECCOMP_IOWR(0, struct seccomp_notif) and SECCOMP_IOWR(1, struct seccomp_notif_resp).
    private const nuint SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100;
    private const nuint SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101;

    private readonly RuntimeHarness _rt = new();

    public void Dispose() => _rt.Dispose();

    [StructLayout(LayoutKind.Sequential)]
    private struct SeccompNotif
    {
        public ulong Id;
        public uint Pid;
        public uint Flags;
        public int Nr;
        public uint Arch;
        public ulong InstructionPointer;
        public fixed ulong Args[6];
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SeccompNotifResp
    {
        public ulong Id;
        public long Val;
        public int Error;
        public uint Flags;
    }

    private sealed record Seen(ContainerProcessState State, List<(int Nr, uint Pid)> Calls);

    /// <summary>
    /// Accepts <paramref name="connections"/> connections on <paramref name="path"/>; each gets a
    /// thread that reads the state and the fd, then answers every notification with
    /// <paramref name="answer"/> (by call index) until the filter's processes are gone.
    /// </summary>
    private static Thread Listen(string path, int connections, Func<int, (long Val, int Error)> answer, ConcurrentQueue<Seen> seen, ConcurrentQueue<Exception> errors)
    {
        var listener = UnixSocket.Listen(path);
        var thread = new Thread(() =>
        {
            var serving = new List<Thread>();
            try
            {
                for (var c = 0; c < connections; c++)
                {
                    if (Sys.PollOne(listener, 1 /* POLLIN */, 30_000) == 0)
                    {
                        throw new TimeoutException("no connection from the runtime");
                    }

                    var connection = UnixSocket.Accept(listener);
                    var (fd, payload) = UnixSocket.ReceiveFd(connection, 65536);
                    Sys.Close(connection);
                    if (fd < 0)
                    {
                        throw new InvalidOperationException("no fd came with the state");
                    }

                    var record = new Seen(RuntimeJson.ParseContainerProcessState(payload), []);
                    var server = new Thread(() => Serve(fd, record, answer, seen, errors)) { IsBackground = true };
                    server.Start();
                    serving.Add(server);
                }
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
            finally
            {
                Sys.Close(listener);
                foreach (var server in serving)
                {
                    server.Join();
                }
            }
        })
        { IsBackground = true };
        thread.Start();
        return thread;
    }

    private static void Serve(int fd, Seen record, Func<int, (long Val, int Error)> answer, ConcurrentQueue<Seen> seen, ConcurrentQueue<Exception> errors)
    {
        try
        {
            while (true)
            {
                var revents = Sys.PollOne(fd, 1, 30_000);
                if (revents == 0)
                {
                    throw new TimeoutException("the filter's processes did not go away");
                }

                if ((revents & 1) == 0)
                {
                    break;
                }

                var notif = default(SeccompNotif);
                try
                {
                    Sys.Ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, (nint)(&notif), "SECCOMP_IOCTL_NOTIF_RECV");
                }
                catch (Linux.SyscallException e) when (e.Errno == Linux.Errno.ENOENT)
                {
                    // The caller died (or was interrupted) before the notification was received.
                    continue;
                }

                var (val, error) = answer(record.Calls.Count);
                record.Calls.Add((notif.Nr, notif.Pid));
                var resp = new SeccompNotifResp { Id = notif.Id, Val = val, Error = error };
                Sys.Ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, (nint)(&resp), "SECCOMP_IOCTL_NOTIF_SEND");
            }
        }
        catch (Exception e)
        {
            errors.Enqueue(e);
        }
        finally
        {
            Sys.Close(fd);
            seen.Enqueue(record);
        }
    }

    private static Oci.Runtime.Seccomp NotifyMkdir(string listenerPath) => new()
    {
        DefaultAction = "SCMP_ACT_ALLOW",
        ListenerPath = listenerPath,
        ListenerMetadata = "dashboard-test",
        Syscalls = [new SeccompSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_NOTIFY" }],
    };

    private static readonly int[] s_mkdirNumbers = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? [83, 258] : [34];

    [Fact]
    public void NotifiedMkdir_IsAnsweredByTheListener_WithAnErrnoAndWithSuccess()
    {
        var path = Path.Combine(_rt.NewDir("listener"), "seccomp.sock");
        var seen = new ConcurrentQueue<Seen>();
        var errors = new ConcurrentQueue<Exception>();
        // First mkdir: EROFS; second: success without doing anything.
        var thread = Listen(path, 1, i => i == 0 ? (0, -Linux.Errno.EROFS) : (0, 0), seen, errors);
        var id = RuntimeHarness.NewId();
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["sh", "-c", "mkdir /tmp/a 2>&1; echo rc=$?; mkdir /tmp/b; echo rc=$?; ls /tmp | wc -l"];
            s.Linux!.Seccomp = NotifyMkdir(path);
        });
        var result = _rt.RunContainer(bundle, id);
        Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "listener did not finish");
        Assert.Empty(errors);
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}");
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("Read-only file system", lines[0], StringComparison.Ordinal);
        Assert.Equal(["rc=1", "rc=0", "0"], lines[1..]);

        var record = Assert.Single(seen);
        Assert.Equal(["seccompFd"], record.State.Fds);
        Assert.Equal("dashboard-test", record.State.Metadata);
        Assert.Equal(id, record.State.State.Id);
        Assert.Equal("creating", record.State.State.Status);
        Assert.Equal(Path.GetFullPath(bundle), record.State.State.Bundle);
        Assert.True(record.State.Pid > 0);
        Assert.Equal(record.State.Pid, record.State.State.Pid);
        Assert.Equal(2, record.Calls.Count);
        Assert.All(record.Calls, c => Assert.Contains(c.Nr, s_mkdirNumbers));
        Assert.All(record.Calls, c => Assert.True(c.Pid > 0));
    }

    [Fact]
    public void Exec_HandsItsOwnListenerFd_WithTheRunningState()
    {
        var path = Path.Combine(_rt.NewDir("listener"), "seccomp.sock");
        var seen = new ConcurrentQueue<Seen>();
        var errors = new ConcurrentQueue<Exception>();
        var thread = Listen(path, 2, _ => (0, -Linux.Errno.EACCES), seen, errors);
        var id = RuntimeHarness.NewId();
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["sleep", "30"];
            s.Linux!.Seccomp = NotifyMkdir(path);
        });
        Assert.Equal(0, _rt.Run("create", "--bundle", bundle, id).ExitCode);
        Assert.Equal(0, _rt.Run("start", id).ExitCode);
        var exec = _rt.Run("exec", id, "sh", "-c", "mkdir /tmp/e 2>&1; echo rc=$?");
        Assert.Equal(0, exec.ExitCode);
        Assert.Contains("Permission denied", exec.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, _rt.Run("kill", id, "KILL").ExitCode);
        Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "listener did not finish");
        Assert.Empty(errors);
        Assert.Equal(["creating", "running"], seen.Select(s => s.State.State.Status).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(1, seen.Sum(s => s.Calls.Count));
        Assert.Equal(0, _rt.Run("delete", "--force", id).ExitCode);
    }

    [Fact]
    public void MissingListener_FailsCreate_WithAClearError()
    {
        var path = Path.Combine(_rt.NewDir("listener"), "nobody.sock");
        var id = RuntimeHarness.NewId();
        var result = _rt.Run("create", "--bundle", _rt.Bundle(s => s.Linux!.Seccomp = NotifyMkdir(path)), id);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"seccomp listener {path}", result.Stderr, StringComparison.Ordinal);
        Assert.False(_rt.StateLeft(id));
    }
}
