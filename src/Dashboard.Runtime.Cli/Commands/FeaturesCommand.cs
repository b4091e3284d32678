using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Init;
using Dashboard.Runtime.Seccomp;
using Dashboard.Runtime.Security;

namespace Dashboard.Runtime.Cli.Commands;

public static class FeaturesCommand
{
    public static int Run(Context context, CommandLine cmd)
    {
        var features = new Features
        {
            Hooks = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
            MountOptions = [.. MountOptions.KnownOptions.Order(StringComparer.Ordinal)],
            Linux = new LinuxFeatures
            {
                Namespaces = ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
                Capabilities = [.. CapabilityNames.All],
                Cgroup = new CgroupFeatures { V1 = true, V2 = true, Systemd = false, SystemdUser = false, Rdma = false },
                Seccomp = SeccompSupport.Describe(),
                Apparmor = new EnabledFeature { Enabled = false },
                Selinux = new EnabledFeature { Enabled = false },
                IntelRdt = new EnabledFeature { Enabled = false },
                MountExtensions = new MountExtensions { Idmap = new EnabledFeature { Enabled = IdmappedMounts.KernelSupports } },
            },
            Annotations = new Dictionary<string, string> { ["org.opencontainers.runtime-spec.features"] = RuntimeJson.SpecVersion },
        };
        Console.WriteLine(RuntimeJson.Serialize(features));
        return 0;
    }
}
