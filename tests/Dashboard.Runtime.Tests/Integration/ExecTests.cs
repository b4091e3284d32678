using System.Net.Sockets;
using System.Text;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Tests.Integration;

[Trait("Requires", "root")]
public class ExecTests : IDisposable
{
    private readonly RuntimeHarness _rt;

    public ExecTests()
        : this(new RuntimeHarness())
    {
    }

    protected ExecTests(RuntimeHarness harness) => _rt = harness;

    public void Dispose()
    {
        _rt.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Exec_JoinsTheRunningContainer()
    {
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("run", "-d", "--bundle", _rt.Bundle("sleep", "60"), id).ExitCode);
        var initPid = RuntimeJson.ParseState(_rt.Run("state", id).Stdout).Pid!.Value;
        var result = _rt.Run("exec", id, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; for n in mnt pid net; do readlink /proc/self/ns/$n; done");
        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("sleep 60", lines[0].Trim());
        Assert.Equal(new FileInfo($"/proc/{initPid}/ns/mnt").LinkTarget, lines[1]);
        Assert.Equal(new FileInfo($"/proc/{initPid}/ns/pid").LinkTarget, lines[2]);
        Assert.Equal(new FileInfo($"/proc/{initPid}/ns/net").LinkTarget, lines[3]);
        Assert.Equal(5, _rt.Run("exec", id, "sh", "-c", "exit 5").ExitCode);
        Assert.Equal(0, _rt.Run("delete", "-f", id).ExitCode);
    }

    [Fact]
    public void Exec_ProcessJson_UserCwdEnvAndCaps()
    {
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("run", "-d", "--bundle", _rt.Bundle("sleep", "60"), id).ExitCode);
        var result = _rt.Run("exec", "--user", "1000:1000", "--cwd", "/tmp", "--env", "X=y", "--cap", "CAP_NET_ADMIN", id, "sh", "-c", "id -u; pwd; echo $X; grep -E '^Cap(Inh|Amb)' /proc/self/status");
        Assert.Equal(0, result.ExitCode);
        // A capability added by exec --cap never lands in inheritable or ambient (CVE-2022-27650).
        Assert.Equal(["1000", "/tmp", "y", "CapInh:\t0000000000000000", "CapAmb:\t0000000000000000"], result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var process = new Oci.Runtime.Process { Args = ["sh", "-c", "echo from-json"], Cwd = "/", Env = [DefaultSpec.DefaultPath] };
        var file = Path.Combine(_rt.NewDir("proc"), "process.json");
        File.WriteAllText(file, RuntimeJson.Serialize(process));
        var json = _rt.Run("exec", "--process", file, id);
        Assert.Equal("from-json", json.Stdout.Trim());
        Assert.Equal(0, _rt.Run("delete", "-f", id).ExitCode);
    }

    [Theory]
    [InlineData("root")]
    [InlineData("-1")]
    [InlineData("4294967295")]
    [InlineData("4294967296")]
    [InlineData("1e3")]
    [InlineData(" 0")]
    [InlineData("0:0:0")]
    [InlineData("+0")]
    public void Exec_BadUser_IsRejected(string user)
    {
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("run", "-d", "--bundle", _rt.Bundle("sleep", "60"), id).ExitCode);
        var result = _rt.Run("exec", "--user", user, id, "id");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--user", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, _rt.Run("delete", "-f", id).ExitCode);
    }

    [Fact]
    public void Exec_CwdThroughProcFd_IsRejected()
    {
        var id = RuntimeHarness.NewId();
        Assert.Equal(0, _rt.Run("run", "-d", "--bundle", _rt.Bundle("sleep", "60"), id).ExitCode);
        for (var fd = 3; fd <= 12; fd++)
        {
            var result = _rt.Run("exec", "--cwd", $"/proc/self/fd/{fd}", id, "pwd");
            Assert.NotEqual(0, result.ExitCode);
            Assert.DoesNotContain("/proc/self/fd", result.Stdout, StringComparison.Ordinal);
        }

        Assert.Equal(0, _rt.Run("delete", "-f", id).ExitCode);
    }

    [Fact]
    public async Task Terminal_ConsoleSocketReceivesThePtyMaster()
    {
        var dir = _rt.NewDir("console");
        var socketPath = Path.Combine(dir, "console.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["sh", "-c", "tty; echo hello-tty; sleep 1"];
            s.Process.Terminal = true;
            s.Process.ConsoleSize = new ConsoleSize { Height = 40, Width = 100 };
        });
        var id = RuntimeHarness.NewId();
        var create = Task.Run(() => _rt.Run("create", "--bundle", bundle, "--console-socket", socketPath, id));
        using var connection = listener.Accept();
        var (master, payload) = UnixSocket.ReceiveFd((int)connection.Handle);
        Assert.True(master >= 0);
        Assert.StartsWith("/dev/pts/", Encoding.UTF8.GetString(payload), StringComparison.Ordinal);
        Assert.Equal(0, (await create).ExitCode);
        Assert.Equal((40, 100), ((int)Terminal.GetWindowSize(master).Rows, (int)Terminal.GetWindowSize(master).Cols));
        Assert.Equal(0, _rt.Run("start", id).ExitCode);
        var output = new StringBuilder();
        var buffer = new byte[4096];
        var deadline = Environment.TickCount64 + 10_000;
        while (!output.ToString().Contains("hello-tty", StringComparison.Ordinal) && Environment.TickCount64 < deadline)
        {
            if ((Sys.PollOne(master, Sys.POLLIN, 200) & Sys.POLLIN) != 0)
            {
                var n = Sys.Read(master, buffer);
                output.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
        }

        Sys.Close(master);
        Assert.Contains("/dev/pts/0", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("hello-tty", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, _rt.Run("delete", "-f", id).ExitCode);
    }

    [Fact]
    public void Seccomp_DeniesWhatItShould()
    {
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["sh", "-c", "mkdir /tmp/x 2>&1; echo rc=$?; echo still-running"];
            s.Linux!.Seccomp = new Oci.Runtime.Seccomp
            {
                DefaultAction = "SCMP_ACT_ALLOW",
                Architectures = ["SCMP_ARCH_X86_64"],
                Syscalls = [new SeccompSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 13 }],
            };
        });
        var result = _rt.RunContainer(bundle);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Permission denied", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("rc=1", result.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(bundle, "rootfs/tmp/x")));
    }

    [Fact]
    public void Seccomp_KillAction_KillsTheProcess()
    {
        var bundle = _rt.Bundle(s =>
        {
            s.Process!.Args = ["sh", "-c", "mkdir /tmp/x"];
            s.Linux!.Seccomp = new Oci.Runtime.Seccomp
            {
                DefaultAction = "SCMP_ACT_ALLOW",
                Syscalls = [new SeccompSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_KILL_PROCESS" }],
            };
        });
        Assert.Equal(128 + 31, _rt.RunContainer(bundle).ExitCode);
    }
}

/// <summary>The same tests with a writable runtime binary: init re-executes a sealed memfd copy.</summary>
[Trait("Requires", "root")]
public sealed class ExecReexecTests : ExecTests
{
    public ExecReexecTests()
        : base(new RuntimeHarness(RuntimeHarness.FindPublishedRuntime()))
    {
    }
}
