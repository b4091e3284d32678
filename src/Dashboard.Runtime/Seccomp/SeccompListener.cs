using Dashboard.Linux;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Init;

namespace Dashboard.Runtime.Seccomp;

/// <summary>
/// Hands the seccomp user-notification fd (SCMP_ACT_NOTIFY) to the agent listening on
/// <c>linux.seccomp.listenerPath</c> (runtime-spec config-linux.md "seccomp"): the container process
/// state JSON with <c>fds: ["seccompFd"]</c> and the fd itself in one SCM_RIGHTS message, as runc
/// does. Init installs the filter and passes the fd to the runtime over the sync socket, because
/// the listener path is a host path that init, inside the container's root, cannot reach.
/// </summary>
public static class SeccompListener
{
    /// <summary>The name of the listener fd in <see cref="ContainerProcessState.Fds"/>.</summary>
    public const string FdName = "seccompFd";

    private const string Offer = "seccomp";
    private const string Done = "seccomp-done";

    /// <summary>Init side: installs the filter, sends its listener fd to the runtime and waits until it was handed on.</summary>
    public static void HandOver(int sync, SeccompProgram program)
    {
        var listener = program.Install();
        try
        {
            InitChannel.Send(sync, new InitMessage { Type = Offer });
            UnixSocket.SendFd(sync, listener, [0]);
        }
        finally
        {
            Sys.Close(listener);
        }

        var reply = InitChannel.Receive(sync);
        if (reply?.Type != Done)
        {
            throw new RuntimeException(ErrorKind.Internal, reply?.Message ?? "runtime went away while handing over the seccomp listener");
        }
    }

    /// <summary>Runtime side, after init's "seccomp" message: receives the fd and forwards it with the state to the listener.</summary>
    public static void Forward(int sync, Oci.Runtime.Seccomp? profile, State state)
    {
        var (fd, _) = UnixSocket.ReceiveFd(sync, 1);
        if (fd < 0)
        {
            throw new RuntimeException(ErrorKind.Internal, "seccomp: init sent no listener fd");
        }

        var path = profile?.ListenerPath;
        try
        {
            if (string.IsNullOrEmpty(path))
            {
                throw RuntimeException.InvalidSpec("seccomp: SCMP_ACT_NOTIFY is used but listenerPath is not set");
            }

            var message = new ContainerProcessState
            {
                Fds = [FdName],
                Pid = state.Pid ?? 0,
                Metadata = profile!.ListenerMetadata,
                State = state,
            };
            var socket = UnixSocket.Connect(path);
            try
            {
                UnixSocket.SendFd(socket, fd, RuntimeJson.SerializeToUtf8(message));
            }
            finally
            {
                Sys.Close(socket);
            }
        }
        catch (SyscallException e)
        {
            throw RuntimeException.Wrap($"seccomp listener {path}", e);
        }
        finally
        {
            Sys.Close(fd);
        }

        InitChannel.Send(sync, new InitMessage { Type = Done });
    }
}
