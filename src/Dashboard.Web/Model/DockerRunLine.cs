using System.Globalization;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Model;

/// <summary>The <c>docker run</c> command equivalent to a create request, shown under the form.</summary>
public static class DockerRunLine
{
    public static string Format(ContainerCreateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var args = new List<string> { "docker", "run", "-d" };
        void Add(string flag, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                args.Add(flag);
                args.Add(value);
            }
        }

        Add("--name", request.Name);
        if (request.Tty)
        {
            args.Add("-t");
        }

        foreach (var e in request.Env)
        {
            Add("-e", e);
        }

        foreach (var (k, v) in request.Labels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            Add("--label", $"{k}={v}");
        }

        foreach (var p in request.Ports)
        {
            var host = p.HostPort is { } hp ? (p.HostIp is { Length: > 0 } ip ? $"{ip}:{hp}:" : $"{hp}:") : "";
            Add("-p", $"{host}{p.ContainerPort}/{p.Protocol}");
        }

        foreach (var m in request.Mounts)
        {
            Add("-v", $"{m.Source}:{m.Target}{(m.ReadOnly ? ":ro" : "")}");
        }

        if (request.MemoryBytes is { } mem)
        {
            Add("--memory", mem % (1024 * 1024) == 0 ? $"{mem / (1024 * 1024)}m" : mem.ToString(CultureInfo.InvariantCulture));
        }

        if (request.NanoCpus is { } cpus)
        {
            Add("--cpus", (cpus / 1e9).ToString("0.###", CultureInfo.InvariantCulture));
        }

        if (request.PidsLimit is { } pids)
        {
            Add("--pids-limit", pids.ToString(CultureInfo.InvariantCulture));
        }

        if (request.RestartPolicy is { Length: > 0 } restart && restart != "no")
        {
            Add("--restart", restart == "on-failure" && request.RestartMaxRetries > 0
                ? string.Create(CultureInfo.InvariantCulture, $"on-failure:{request.RestartMaxRetries}")
                : restart);
        }

        if (request.Health is { } health && health.Test.Count > 0)
        {
            Add("--health-cmd", health.Test[0] == "CMD-SHELL" && health.Test.Count == 2 ? health.Test[1] : ShellWords.Join(health.Test.Skip(health.Test[0] == "CMD" ? 1 : 0)));
            if (health.Interval is { } interval)
            {
                Add("--health-interval", $"{interval.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s");
            }

            if (health.Timeout is { } timeout)
            {
                Add("--health-timeout", $"{timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s");
            }

            if (health.Retries is { } retries)
            {
                Add("--health-retries", retries.ToString(CultureInfo.InvariantCulture));
            }
        }

        Add("--network", request.NetworkMode);
        Add("--user", request.User);
        foreach (var cap in request.CapAdd)
        {
            Add("--cap-add", cap);
        }

        foreach (var cap in request.CapDrop)
        {
            Add("--cap-drop", cap);
        }

        if (request.ReadOnlyRootfs)
        {
            args.Add("--read-only");
        }

        if (request.Privileged)
        {
            args.Add("--privileged");
        }

        Add("--pid", request.PidMode);
        Add("--ipc", request.IpcMode);
        Add("--uts", request.UtsMode);
        foreach (var d in request.Devices)
        {
            Add("--device", $"{d.PathOnHost}:{d.PathInContainer}:{d.Permissions}");
        }

        foreach (var opt in request.SecurityOpt)
        {
            Add("--security-opt", opt);
        }

        if (request.Entrypoint is { Count: > 0 } entrypoint)
        {
            // docker run takes one entrypoint word; further words go before the command.
            Add("--entrypoint", entrypoint[0]);
        }

        args.Add(request.Image);
        if (request.Entrypoint is { Count: > 1 } more)
        {
            args.AddRange(more.Skip(1));
        }

        if (request.Command is { } command)
        {
            args.AddRange(command);
        }

        return ShellWords.Join(args);
    }
}
