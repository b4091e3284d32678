using System.Text;
using Dashboard.Linux;
using Dashboard.Linux.Native;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime;

/// <summary>Runs runtime-spec hooks (config.md "POSIX-platform Hooks") with the container state on stdin.</summary>
public static class HookRunner
{
    /// <summary>A hook without a timeout gets this one, so a hung hook cannot hang the runtime forever.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    /// <summary>Runs each hook in order; the first failure throws (callers decide whether that is fatal).</summary>
    public static void Run(IEnumerable<Hook>? hooks, State state, string phase)
    {
        if (hooks is null)
        {
            return;
        }

        // One line of JSON, as runc writes it: hooks often read a single line.
        var stdin = Encoding.UTF8.GetBytes(System.Text.Json.Nodes.JsonNode.Parse(RuntimeJson.Serialize(state))!.ToJsonString());
        foreach (var hook in hooks)
        {
            var timeout = hook.Timeout is { } seconds ? TimeSpan.FromSeconds(seconds) : DefaultTimeout;
            int status;
            try
            {
                status = Spawner.Run(hook.Path, hook.Args is { Count: > 0 } args ? args : [hook.Path], hook.Env ?? [], stdin, timeout);
            }
            catch (SyscallException e)
            {
                throw new RuntimeException(ErrorKind.Internal, $"{phase} hook {hook.Path}: {e.Message}", e);
            }

            if (status == -1)
            {
                throw new RuntimeException(ErrorKind.Internal, $"{phase} hook {hook.Path}: timed out after {timeout.TotalSeconds:0}s");
            }

            if (status != 0)
            {
                throw new RuntimeException(ErrorKind.Internal, $"{phase} hook {hook.Path}: exit status {status}");
            }
        }
    }
}
