using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Cgroups;

/// <summary>The device allow-list a container's cgroup gets, and its v1 rule text.</summary>
public static class CgroupDeviceRules
{
    /// <summary>
    /// The config's rules in order, then the devices every container gets (config-linux.md "Default
    /// Devices" plus /dev/pts, /dev/ptmx and /dev/net/tun, as runc allows), then each <c>linux.devices</c> entry.
    /// Pass the result as <c>Resources.Devices</c> to <see cref="ICgroupManager.Create"/>.
    /// </summary>
    public static List<DeviceCgroup> Effective(Dashboard.Oci.Runtime.Linux? linux)
    {
        var rules = new List<DeviceCgroup>();
        rules.AddRange(linux?.Resources?.Devices ?? []);
        rules.Add(Allow("c", null, null, "m"));
        rules.Add(Allow("b", null, null, "m"));
        rules.Add(Allow("c", 1, 3, "rwm"));   // /dev/null
        rules.Add(Allow("c", 1, 8, "rwm"));   // /dev/random
        rules.Add(Allow("c", 1, 7, "rwm"));   // /dev/full
        rules.Add(Allow("c", 5, 0, "rwm"));   // /dev/tty
        rules.Add(Allow("c", 1, 5, "rwm"));   // /dev/zero
        rules.Add(Allow("c", 1, 9, "rwm"));   // /dev/urandom
        rules.Add(Allow("c", 5, 1, "rwm"));   // /dev/console
        rules.Add(Allow("c", 136, null, "rwm")); // /dev/pts/*
        rules.Add(Allow("c", 5, 2, "rwm"));   // /dev/ptmx
        rules.Add(Allow("c", 10, 200, "rwm")); // /dev/net/tun
        foreach (var device in linux?.Devices ?? [])
        {
            // Fifos ("p") are not subject to the device cgroup.
            if (device.Type is "c" or "u" or "b")
            {
                rules.Add(Allow(device.Type == "b" ? "b" : "c", device.Major, device.Minor, "rwm"));
            }
        }

        return rules;
    }

    /// <summary>
    /// The v1 lines for one rule ("type major:minor access"). An "a" rule over every device with all
    /// access is written as "a"; a narrower "a" rule becomes a "c" and a "b" rule, because the kernel
    /// reads any "a" as "everything".
    /// </summary>
    internal static IReadOnlyList<string> ToV1Lines(DeviceCgroup rule)
    {
        var type = string.IsNullOrEmpty(rule.Type) ? "a" : rule.Type;
        var access = string.IsNullOrEmpty(rule.Access) ? "rwm" : rule.Access;
        if (type is not ("a" or "b" or "c"))
        {
            throw new CgroupException(CgroupErrorKind.InvalidSpec, $"invalid device rule type \"{type}\": want a, b or c");
        }

        if (access.Length > 3 || access.Any(c => c is not ('r' or 'w' or 'm')) || access.Distinct().Count() != access.Length)
        {
            throw new CgroupException(CgroupErrorKind.InvalidSpec, $"invalid device rule access \"{access}\": want a combination of r, w and m");
        }

        var major = rule.Major is null or < 0 ? "*" : rule.Major.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var minor = rule.Minor is null or < 0 ? "*" : rule.Minor.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (type == "a")
        {
            return major == "*" && minor == "*" && access.Length == 3
                ? ["a"]
                : [$"c {major}:{minor} {access}", $"b {major}:{minor} {access}"];
        }

        return [$"{type} {major}:{minor} {access}"];
    }

    private static DeviceCgroup Allow(string type, long? major, long? minor, string access) =>
        new() { Allow = true, Type = type, Major = major, Minor = minor, Access = access };
}
