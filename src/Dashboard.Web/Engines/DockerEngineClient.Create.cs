using System.Globalization;
using Docker.DotNet.Models;

namespace Dashboard.Web.Engines;

public sealed partial class DockerEngineClient
{
    public async Task<string> CreateContainerAsync(ContainerCreateRequest request, CancellationToken cancellationToken)
    {
        var created = await CallAsync($"create container {request.Name ?? request.Image}", () => _client.Containers.CreateContainerAsync(ToParameters(request), cancellationToken));
        return created.ID;
    }

    public async Task<ContainerCreateRequest> GetCreateRequestAsync(string id, CancellationToken cancellationToken)
    {
        var c = await CallAsync($"inspect container {id}", () => _client.Containers.InspectContainerAsync(id, cancellationToken));
        return FromInspect(c);
    }

    public Task RenameContainerAsync(string id, string newName, CancellationToken cancellationToken) =>
        CallAsync($"rename container {id}", async () =>
        {
            await _client.Containers.RenameContainerAsync(id, new ContainerRenameParameters { NewName = newName }, cancellationToken);
            return true;
        });

    /// <summary>Docker.DotNet declares its model strings and lists non-null although the API reads null as "not set"; hence the <c>!</c>s.</summary>
    public static CreateContainerParameters ToParameters(ContainerCreateRequest r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var exposed = new Dictionary<string, EmptyStruct>(StringComparer.Ordinal);
        var bindings = new Dictionary<string, IList<PortBinding>>(StringComparer.Ordinal);
        foreach (var p in r.Ports)
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"{p.ContainerPort}/{p.Protocol}");
            exposed[key] = default;
            if (p.HostPort is { } hostPort)
            {
                if (!bindings.TryGetValue(key, out var list))
                {
                    bindings[key] = list = [];
                }

                list.Add(new PortBinding { HostIP = p.HostIp ?? "", HostPort = hostPort.ToString(CultureInfo.InvariantCulture) });
            }
        }

        return new CreateContainerParameters
        {
            Image = r.Image,
            Name = r.Name!,
            Cmd = r.Command?.ToList()!,
            Entrypoint = r.Entrypoint?.ToList()!,
            Env = [.. r.Env],
            Labels = new Dictionary<string, string>(r.Labels, StringComparer.Ordinal),
            ExposedPorts = exposed,
            Tty = r.Tty,
            User = r.User!,
            Healthcheck = r.Health is { } h ? new HealthcheckConfig { Test = [.. h.Test], Interval = h.Interval, Timeout = h.Timeout, Retries = h.Retries } : null!,
            HostConfig = new HostConfig
            {
                PortBindings = bindings,
                Mounts = [.. r.Mounts.Select(m => new Mount { Type = m.Type, Source = m.Source, Target = m.Target, ReadOnly = m.ReadOnly })],
                Memory = r.MemoryBytes ?? 0,
                NanoCPUs = r.NanoCpus ?? 0,
                PidsLimit = r.PidsLimit,
                RestartPolicy = new RestartPolicy
                {
                    Name = r.RestartPolicy switch
                    {
                        "always" => RestartPolicyKind.Always,
                        "unless-stopped" => RestartPolicyKind.UnlessStopped,
                        "on-failure" => RestartPolicyKind.OnFailure,
                        _ => RestartPolicyKind.No,
                    },
                    MaximumRetryCount = r.RestartMaxRetries,
                },
                NetworkMode = r.NetworkMode!,
                CapAdd = [.. r.CapAdd],
                CapDrop = [.. r.CapDrop],
                ReadonlyRootfs = r.ReadOnlyRootfs,
                Privileged = r.Privileged,
                PidMode = r.PidMode!,
                IpcMode = r.IpcMode!,
                UTSMode = r.UtsMode!,
                Devices = [.. r.Devices.Select(d => new DeviceMapping { PathOnHost = d.PathOnHost, PathInContainer = d.PathInContainer, CgroupPermissions = d.Permissions })],
                SecurityOpt = [.. r.SecurityOpt],
            },
        };
    }

    public static ContainerCreateRequest FromInspect(ContainerInspectResponse c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var config = c.Config ?? new ContainerConfig();
        var host = c.HostConfig ?? new HostConfig();
        var ports = new List<PortPublish>();
        foreach (var key in (config.ExposedPorts?.Keys ?? []).Union(host.PortBindings?.Keys ?? [], StringComparer.Ordinal))
        {
            var slash = key.IndexOf('/', StringComparison.Ordinal);
            if (!int.TryParse(slash < 0 ? key : key[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            {
                continue;
            }

            var proto = slash < 0 ? "tcp" : key[(slash + 1)..];
            IList<PortBinding>? bound = null;
            _ = host.PortBindings?.TryGetValue(key, out bound);
            if (bound is null || bound.Count == 0)
            {
                ports.Add(new PortPublish(port, proto, null, null));
                continue;
            }

            foreach (var b in bound)
            {
                ports.Add(new PortPublish(port, proto, string.IsNullOrEmpty(b.HostIP) ? null : b.HostIP,
                    int.TryParse(b.HostPort, NumberStyles.None, CultureInfo.InvariantCulture, out var hp) ? hp : null));
            }
        }

        var mounts = (host.Mounts ?? []).Select(m => new MountSpec(m.Type ?? "volume", m.Source ?? "", m.Target ?? "", m.ReadOnly ?? false)).ToList();
        foreach (var bind in host.Binds ?? [])
        {
            var parts = bind.Split(':');
            if (parts.Length >= 2)
            {
                mounts.Add(new MountSpec(parts[0].StartsWith('/') ? "bind" : "volume", parts[0], parts[1], parts.Length > 2 && parts[2].Split(',').Contains("ro")));
            }
        }

        return new ContainerCreateRequest
        {
            Image = config.Image ?? c.Image ?? "",
            Name = TrimName(c.Name ?? ""),
            Command = config.Cmd?.ToList(),
            Entrypoint = config.Entrypoint?.ToList(),
            Env = config.Env?.ToList() ?? [],
            Labels = new Dictionary<string, string>(config.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal),
            Ports = ports,
            Mounts = mounts,
            MemoryBytes = host.Memory > 0 ? host.Memory : null,
            NanoCpus = host.NanoCPUs > 0 ? host.NanoCPUs : null,
            PidsLimit = host.PidsLimit is > 0 ? host.PidsLimit : null,
            RestartPolicy = host.RestartPolicy?.Name switch
            {
                RestartPolicyKind.Always => "always",
                RestartPolicyKind.UnlessStopped => "unless-stopped",
                RestartPolicyKind.OnFailure => "on-failure",
                _ => "no",
            },
            RestartMaxRetries = (int)(host.RestartPolicy?.MaximumRetryCount ?? 0),
            Health = config.Healthcheck is { Test: { Count: > 0 } test } hc && test[0] != "NONE"
                ? new HealthSpec([.. test], hc.Interval, hc.Timeout, (int?)hc.Retries)
                : null,
            NetworkMode = string.IsNullOrEmpty(host.NetworkMode) || host.NetworkMode == "default" ? null : host.NetworkMode,
            User = string.IsNullOrEmpty(config.User) ? null : config.User,
            CapAdd = host.CapAdd?.ToList() ?? [],
            CapDrop = host.CapDrop?.ToList() ?? [],
            ReadOnlyRootfs = host.ReadonlyRootfs,
            Tty = config.Tty,
            Privileged = host.Privileged,
            PidMode = string.IsNullOrEmpty(host.PidMode) ? null : host.PidMode,
            IpcMode = string.IsNullOrEmpty(host.IpcMode) || host.IpcMode is "private" or "shareable" ? null : host.IpcMode,
            UtsMode = string.IsNullOrEmpty(host.UTSMode) ? null : host.UTSMode,
            Devices = (host.Devices ?? []).Select(d => new DeviceSpec(d.PathOnHost ?? "", d.PathInContainer ?? "", d.CgroupPermissions ?? "rwm")).ToList(),
            SecurityOpt = host.SecurityOpt?.ToList() ?? [],
        };
    }
}
