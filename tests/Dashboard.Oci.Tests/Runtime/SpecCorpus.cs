using System.Collections;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Dashboard.Oci.Runtime;
using Dashboard.Testing;

namespace Dashboard.Oci.Tests.Runtime;

/// <summary>
/// Documents for the reader/serializer equivalence tests, and the two parsers side by side: the
/// source-generated serializer (the old path) and <see cref="SpecReader"/>.
/// </summary>
internal static class SpecCorpus
{
    /// <summary>Every field of the model set to a non-default value (checked by <see cref="UnsetProperties"/>).</summary>
    public const string KitchenSink = """
        {
          "ociVersion": "1.3.0-rc.1+dev",
          "process": {
            "terminal": true,
            "consoleSize": { "height": 24, "width": 80 },
            "user": { "uid": 1000, "gid": 1001, "umask": 18, "additionalGids": [5, 6, 4294967295], "username": "app" },
            "args": ["/bin/sh", "-c", "echo \"hi\" \u00e9 \ud83d\ude00 <tag>&"],
            "commandLine": "sh -c true",
            "env": ["PATH=/usr/bin:/bin", "TERM=xterm", "EMPTY="],
            "cwd": "/work",
            "capabilities": {
              "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL"],
              "effective": ["CAP_KILL"],
              "inheritable": ["CAP_NET_RAW"],
              "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
              "ambient": ["CAP_NET_BIND_SERVICE"]
            },
            "rlimits": [
              { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512 },
              { "type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 18446744073709551615 }
            ],
            "noNewPrivileges": true,
            "apparmorProfile": "docker-default",
            "oomScoreAdj": -500,
            "selinuxLabel": "system_u:system_r:svirt_lxc_net_t:s0:c124,c675",
            "ioPriority": { "class": "IOPRIO_CLASS_BE", "priority": 4 },
            "scheduler": { "policy": "SCHED_DEADLINE", "nice": -5, "priority": 10, "flags": ["SCHED_FLAG_RESET_ON_FORK"], "runtime": 10000, "deadline": 20000, "period": 30000 },
            "execCPUAffinity": { "initial": "0-1", "final": "1" }
          },
          "root": { "path": "/var/lib/box/root", "readonly": true },
          "hostname": "box",
          "domainname": "example.org",
          "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec"] },
            { "destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "rprivate", "idmap"],
              "uidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }],
              "gidMappings": [{ "containerID": 0, "hostID": 200000, "size": 65536 }] }
          ],
          "hooks": {
            "prestart": [{ "path": "/usr/bin/prestart", "args": ["prestart", "a"], "env": ["A=1"], "timeout": 5 }],
            "createRuntime": [{ "path": "/usr/bin/cr" }],
            "createContainer": [{ "path": "/usr/bin/cc", "args": ["cc"] }],
            "startContainer": [{ "path": "/usr/bin/sc", "timeout": 1 }],
            "poststart": [{ "path": "/usr/bin/ps1" }, { "path": "/usr/bin/ps2", "env": ["B=2"] }],
            "poststop": [{ "path": "/usr/bin/stop", "timeout": 2147483647 }]
          },
          "annotations": { "org.opencontainers.image.title": "t", "run.dashboard.init": "true", "": "empty key" },
          "linux": {
            "namespaces": [
              { "type": "pid" }, { "type": "network", "path": "/var/run/netns/x" }, { "type": "mount" }, { "type": "ipc" },
              { "type": "uts" }, { "type": "user" }, { "type": "cgroup" }, { "type": "time" }
            ],
            "uidMappings": [{ "containerID": 0, "hostID": 1000, "size": 1 }],
            "gidMappings": [{ "containerID": 0, "hostID": 1000, "size": 1 }, { "containerID": 1, "hostID": 100000, "size": 65536 }],
            "timeOffsets": { "monotonic": { "secs": -9223372036854775808, "nanosecs": 999999999 }, "boottime": { "secs": 9223372036854775807, "nanosecs": 1 } },
            "devices": [
              { "type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0 },
              { "type": "b", "path": "/dev/sda", "major": 8, "minor": -1 }
            ],
            "netDevices": { "eth1": { "name": "net1" }, "eth2": {} },
            "cgroupsPath": "/dashboard/box",
            "resources": {
              "devices": [{ "allow": false, "access": "rwm" }, { "allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw" }],
              "memory": { "limit": 536870912, "reservation": 268435456, "swap": -1, "kernel": 0, "kernelTCP": 1, "swappiness": 60, "disableOOMKiller": true, "useHierarchy": false, "checkBeforeUpdate": true },
              "cpu": { "shares": 1024, "quota": -1, "burst": 1000, "period": 100000, "realtimeRuntime": 950000, "realtimePeriod": 1000000, "cpus": "0-1", "mems": "0", "idle": 1 },
              "pids": { "limit": 32771 },
              "blockIO": {
                "weight": 500, "leafWeight": 65535,
                "weightDevice": [{ "major": 8, "minor": 1, "weight": 600, "leafWeight": 300 }],
                "throttleReadBpsDevice": [{ "major": 8, "minor": 0, "rate": 600 }],
                "throttleWriteBpsDevice": [{ "major": 8, "minor": 16, "rate": 300 }],
                "throttleReadIOPSDevice": [{ "major": 8, "minor": 32, "rate": 18446744073709551615 }],
                "throttleWriteIOPSDevice": [{ "major": 8, "minor": 48, "rate": 1 }]
              },
              "hugepageLimits": [{ "pageSize": "2MB", "limit": 209715200 }, { "pageSize": "1GB", "limit": 0 }],
              "network": { "classID": 1048577, "priorities": [{ "name": "eth0", "priority": 500 }, { "name": "eth1", "priority": 1000 }] },
              "rdma": { "mlx5_1": { "hcaHandles": 3, "hcaObjects": 10000 } },
              "unified": { "memory.high": "max", "io.max": "8:0 rbps=1048576" }
            },
            "rootfsPropagation": "rslave",
            "seccomp": {
              "defaultAction": "SCMP_ACT_ERRNO",
              "defaultErrnoRet": 1,
              "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
              "flags": ["SECCOMP_FILTER_FLAG_LOG"],
              "listenerPath": "/run/listener.sock",
              "listenerMetadata": "meta",
              "syscalls": [
                { "names": ["read", "write"], "action": "SCMP_ACT_ALLOW" },
                { "names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ" }, { "index": 5, "value": 18446744073709551615, "valueTwo": 255, "op": "SCMP_CMP_MASKED_EQ" }] },
                { "names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38 }
              ]
            },
            "sysctl": { "net.ipv4.ip_forward": "1", "kernel.shmmax": "4294967296" },
            "maskedPaths": ["/proc/kcore", "/sys/firmware"],
            "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"],
            "mountLabel": "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811",
            "personality": { "domain": "LINUX32", "flags": ["ADDR_NO_RANDOMIZE"] },
            "intelRdt": { "closID": "guaranteed_group", "l3CacheSchema": "L3:0=7f0;1=1f", "memBwSchema": "MB:0=20;1=70" },
            "memoryPolicy": { "mode": "MPOL_BIND", "nodes": "0-1", "flags": ["MPOL_F_STATIC_NODES"] }
          }
        }
        """;

    /// <summary>Properties whose value is a map from string to values (their keys are data, not fields).</summary>
    public static readonly HashSet<string> MapProperties = ["annotations", "sysctl", "unified", "timeOffsets", "netDevices", "rdma"];

    public static string SchemaDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            // The repository's own copy of the spec's test documents.
            var candidate = Path.Combine(dir.FullName, "tests", "Dashboard.Oci.Tests", "Runtime", "oci-runtime-spec-schema");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        Requires.Unmet("needs tests/Dashboard.Oci.Tests/Runtime/oci-runtime-spec-schema (the runtime-spec's test documents)");
        throw new InvalidOperationException("unreachable");
    }

    public static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }

    public static Spec? OldParse(byte[] utf8) => JsonSerializer.Deserialize(utf8, RuntimeJsonContext.Default.Spec);

    /// <summary>The object graph as the source-generated serializer writes it: the deep comparison of two graphs.</summary>
    public static string Canonical(Spec spec) => JsonSerializer.Serialize(spec, RuntimeJsonContext.Default.Spec);

    public static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);

    /// <summary>Parses with both; returns (old error, new error, old graph, new graph).</summary>
    public static (Exception? Old, Exception? New, string? OldGraph, string? NewGraph) Both(byte[] utf8)
    {
        Exception? oldError = null, newError = null;
        string? oldGraph = null, newGraph = null;
        try
        {
            var spec = OldParse(utf8) ?? throw new JsonException("config.json is null");
            oldGraph = Canonical(spec);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            oldError = e;
        }

        try
        {
            newGraph = Canonical(SpecReader.ReadSpec(utf8));
        }
        catch (JsonException e)
        {
            newError = e;
        }

        return (oldError, newError, oldGraph, newGraph);
    }

    /// <summary>Paths (<c>Type.Property</c>) of every model property reachable from <see cref="Spec"/> that no object in <paramref name="graph"/> sets to a non-default value.</summary>
    public static SortedSet<string> UnsetProperties(Spec graph)
    {
        var all = new SortedSet<string>(StringComparer.Ordinal);
        var types = new HashSet<Type>();
        CollectTypes(typeof(Spec), types);
        foreach (var type in types)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                all.Add($"{type.Name}.{property.Name}");
            }
        }

        Visit(graph, all, new HashSet<object>(ReferenceEqualityComparer.Instance));
        return all;
    }

    private static void CollectTypes(Type type, HashSet<Type> types)
    {
        if (type.Namespace != typeof(Spec).Namespace || !types.Add(type))
        {
            return;
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var t = property.PropertyType;
            if (t.IsGenericType)
            {
                foreach (var argument in t.GetGenericArguments())
                {
                    CollectTypes(argument, types);
                }
            }
            else
            {
                CollectTypes(t, types);
            }
        }
    }

    private static void Visit(object? value, SortedSet<string> unset, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsValueType || !seen.Add(value))
        {
            return;
        }

        if (value is IDictionary map)
        {
            foreach (DictionaryEntry entry in map)
            {
                Visit(entry.Value, unset, seen);
            }

            return;
        }

        if (value is IEnumerable items)
        {
            foreach (var item in items)
            {
                Visit(item, unset, seen);
            }

            return;
        }

        var type = value.GetType();
        var fresh = Activator.CreateInstance(type);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var v = property.GetValue(value);
            var d = property.GetValue(fresh);
            var isSet = v switch
            {
                null => false,
                ICollection c => c.Count > 0,
                _ => !Equals(v, d),
            };
            if (isSet)
            {
                unset.Remove($"{type.Name}.{property.Name}");
            }

            Visit(v, unset, seen);
        }
    }
}
