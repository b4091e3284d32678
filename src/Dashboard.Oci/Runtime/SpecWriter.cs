using System.Buffers;
using System.Text.Json;

namespace Dashboard.Oci.Runtime;

/// <summary>
/// Writes config.json, <c>process</c> and <c>resources</c> documents over <see cref="Utf8JsonWriter"/>
/// with the output of the source-generated serializer (<see cref="RuntimeJsonContext"/>: properties in
/// declaration order, nulls left out, same escaping), without its metadata set-up on the create path.
/// </summary>
public static class SpecWriter
{
    private static readonly JsonWriterOptions s_indented = new() { Indented = true };

    public static byte[] ToUtf8(Spec spec, bool indented = true) => Write(spec, indented, WriteSpec);

    public static byte[] ToUtf8(Process process, bool indented = true) => Write(process, indented, WriteProcess);

    public static byte[] ToUtf8(Resources resources, bool indented = true) => Write(resources, indented, WriteResources);

    /// <summary>Writes <paramref name="spec"/> as a value (a property value or array element) of <paramref name="writer"/>.</summary>
    public static void Write(Utf8JsonWriter writer, Spec spec) => WriteSpec(writer, spec);

    private static byte[] Write<T>(T value, bool indented, Action<Utf8JsonWriter, T> write)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, indented ? s_indented : default))
        {
            write(writer, value);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteStringList(Utf8JsonWriter w, List<string> list)
    {
        w.WriteStartArray();
        foreach (var item in list)
        {
            if (item is null)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteStringValue(item);
            }
        }

        w.WriteEndArray();
    }

    private static void WriteUInt32List(Utf8JsonWriter w, List<uint> list)
    {
        w.WriteStartArray();
        foreach (var item in list)
        {
            w.WriteNumberValue(item);
        }

        w.WriteEndArray();
    }

    private static void WriteList<T>(Utf8JsonWriter w, List<T> list, Action<Utf8JsonWriter, T> write)
        where T : class
    {
        w.WriteStartArray();
        foreach (var item in list)
        {
            if (item is null)
            {
                w.WriteNullValue();
            }
            else
            {
                write(w, item);
            }
        }

        w.WriteEndArray();
    }

    private static void WriteStringMap(Utf8JsonWriter w, Dictionary<string, string> map)
    {
        w.WriteStartObject();
        foreach (var (key, value) in map)
        {
            if (value is null)
            {
                w.WriteNull(key);
            }
            else
            {
                w.WriteString(key, value);
            }
        }

        w.WriteEndObject();
    }

    private static void WriteMap<T>(Utf8JsonWriter w, Dictionary<string, T> map, Action<Utf8JsonWriter, T> write)
        where T : class
    {
        w.WriteStartObject();
        foreach (var (key, value) in map)
        {
            w.WritePropertyName(key);
            if (value is null)
            {
                w.WriteNullValue();
            }
            else
            {
                write(w, value);
            }
        }

        w.WriteEndObject();
    }

    private static void WriteSpec(Utf8JsonWriter w, Spec v)
    {
        w.WriteStartObject();
        if (v.OciVersion is { } ociVersion) w.WriteString("ociVersion"u8, ociVersion);
        if (v.Process is { } process) { w.WritePropertyName("process"u8); WriteProcess(w, process); }
        if (v.Root is { } root) { w.WritePropertyName("root"u8); WriteRoot(w, root); }
        if (v.Hostname is { } hostname) w.WriteString("hostname"u8, hostname);
        if (v.Domainname is { } domainname) w.WriteString("domainname"u8, domainname);
        if (v.Mounts is { } mounts) { w.WritePropertyName("mounts"u8); WriteList(w, mounts, WriteMount); }
        if (v.Hooks is { } hooks) { w.WritePropertyName("hooks"u8); WriteHooks(w, hooks); }
        if (v.Annotations is { } annotations) { w.WritePropertyName("annotations"u8); WriteStringMap(w, annotations); }
        if (v.Linux is { } linux) { w.WritePropertyName("linux"u8); WriteLinux(w, linux); }
        w.WriteEndObject();
    }

    private static void WriteRoot(Utf8JsonWriter w, Root v)
    {
        w.WriteStartObject();
        if (v.Path is { } path) w.WriteString("path"u8, path);
        w.WriteBoolean("readonly"u8, v.Readonly);
        w.WriteEndObject();
    }

    private static void WriteProcess(Utf8JsonWriter w, Process v)
    {
        w.WriteStartObject();
        w.WriteBoolean("terminal"u8, v.Terminal);
        if (v.ConsoleSize is { } consoleSize) { w.WritePropertyName("consoleSize"u8); WriteConsoleSize(w, consoleSize); }
        if (v.User is { } user) { w.WritePropertyName("user"u8); WriteUser(w, user); }
        if (v.Args is { } args) { w.WritePropertyName("args"u8); WriteStringList(w, args); }
        if (v.CommandLine is { } commandLine) w.WriteString("commandLine"u8, commandLine);
        if (v.Env is { } env) { w.WritePropertyName("env"u8); WriteStringList(w, env); }
        if (v.Cwd is { } cwd) w.WriteString("cwd"u8, cwd);
        if (v.Capabilities is { } capabilities) { w.WritePropertyName("capabilities"u8); WriteCapabilities(w, capabilities); }
        if (v.Rlimits is { } rlimits) { w.WritePropertyName("rlimits"u8); WriteList(w, rlimits, WriteRlimit); }
        w.WriteBoolean("noNewPrivileges"u8, v.NoNewPrivileges);
        if (v.ApparmorProfile is { } apparmorProfile) w.WriteString("apparmorProfile"u8, apparmorProfile);
        if (v.OomScoreAdj is { } oomScoreAdj) w.WriteNumber("oomScoreAdj"u8, oomScoreAdj);
        if (v.SelinuxLabel is { } selinuxLabel) w.WriteString("selinuxLabel"u8, selinuxLabel);
        if (v.IoPriority is { } ioPriority) { w.WritePropertyName("ioPriority"u8); WriteIoPriority(w, ioPriority); }
        if (v.Scheduler is { } scheduler) { w.WritePropertyName("scheduler"u8); WriteScheduler(w, scheduler); }
        if (v.ExecCpuAffinity is { } execCpuAffinity) { w.WritePropertyName("execCPUAffinity"u8); WriteCpuAffinity(w, execCpuAffinity); }
        w.WriteEndObject();
    }

    private static void WriteConsoleSize(Utf8JsonWriter w, ConsoleSize v)
    {
        w.WriteStartObject();
        w.WriteNumber("height"u8, v.Height);
        w.WriteNumber("width"u8, v.Width);
        w.WriteEndObject();
    }

    private static void WriteUser(Utf8JsonWriter w, User v)
    {
        w.WriteStartObject();
        w.WriteNumber("uid"u8, v.Uid);
        w.WriteNumber("gid"u8, v.Gid);
        if (v.Umask is { } umask) w.WriteNumber("umask"u8, umask);
        if (v.AdditionalGids is { } additionalGids) { w.WritePropertyName("additionalGids"u8); WriteUInt32List(w, additionalGids); }
        if (v.Username is { } username) w.WriteString("username"u8, username);
        w.WriteEndObject();
    }

    private static void WriteCapabilities(Utf8JsonWriter w, Capabilities v)
    {
        w.WriteStartObject();
        if (v.Bounding is { } bounding) { w.WritePropertyName("bounding"u8); WriteStringList(w, bounding); }
        if (v.Effective is { } effective) { w.WritePropertyName("effective"u8); WriteStringList(w, effective); }
        if (v.Inheritable is { } inheritable) { w.WritePropertyName("inheritable"u8); WriteStringList(w, inheritable); }
        if (v.Permitted is { } permitted) { w.WritePropertyName("permitted"u8); WriteStringList(w, permitted); }
        if (v.Ambient is { } ambient) { w.WritePropertyName("ambient"u8); WriteStringList(w, ambient); }
        w.WriteEndObject();
    }

    private static void WriteRlimit(Utf8JsonWriter w, Rlimit v)
    {
        w.WriteStartObject();
        if (v.Type is { } type) w.WriteString("type"u8, type);
        w.WriteNumber("hard"u8, v.Hard);
        w.WriteNumber("soft"u8, v.Soft);
        w.WriteEndObject();
    }

    private static void WriteIoPriority(Utf8JsonWriter w, IoPriority v)
    {
        w.WriteStartObject();
        if (v.Class is { } @class) w.WriteString("class"u8, @class);
        w.WriteNumber("priority"u8, v.Priority);
        w.WriteEndObject();
    }

    private static void WriteScheduler(Utf8JsonWriter w, Scheduler v)
    {
        w.WriteStartObject();
        if (v.Policy is { } policy) w.WriteString("policy"u8, policy);
        if (v.Nice is { } nice) w.WriteNumber("nice"u8, nice);
        if (v.Priority is { } priority) w.WriteNumber("priority"u8, priority);
        if (v.Flags is { } flags) { w.WritePropertyName("flags"u8); WriteStringList(w, flags); }
        if (v.Runtime is { } runtime) w.WriteNumber("runtime"u8, runtime);
        if (v.Deadline is { } deadline) w.WriteNumber("deadline"u8, deadline);
        if (v.Period is { } period) w.WriteNumber("period"u8, period);
        w.WriteEndObject();
    }

    private static void WriteCpuAffinity(Utf8JsonWriter w, CpuAffinity v)
    {
        w.WriteStartObject();
        if (v.Initial is { } initial) w.WriteString("initial"u8, initial);
        if (v.Final is { } final) w.WriteString("final"u8, final);
        w.WriteEndObject();
    }

    private static void WriteMount(Utf8JsonWriter w, Mount v)
    {
        w.WriteStartObject();
        if (v.Destination is { } destination) w.WriteString("destination"u8, destination);
        if (v.Type is { } type) w.WriteString("type"u8, type);
        if (v.Source is { } source) w.WriteString("source"u8, source);
        if (v.Options is { } options) { w.WritePropertyName("options"u8); WriteStringList(w, options); }
        if (v.UidMappings is { } uidMappings) { w.WritePropertyName("uidMappings"u8); WriteList(w, uidMappings, WriteIdMapping); }
        if (v.GidMappings is { } gidMappings) { w.WritePropertyName("gidMappings"u8); WriteList(w, gidMappings, WriteIdMapping); }
        w.WriteEndObject();
    }

    private static void WriteIdMapping(Utf8JsonWriter w, IdMapping v)
    {
        w.WriteStartObject();
        w.WriteNumber("containerID"u8, v.ContainerId);
        w.WriteNumber("hostID"u8, v.HostId);
        w.WriteNumber("size"u8, v.Size);
        w.WriteEndObject();
    }

    private static void WriteHooks(Utf8JsonWriter w, Hooks v)
    {
        w.WriteStartObject();
        if (v.Prestart is { } prestart) { w.WritePropertyName("prestart"u8); WriteList(w, prestart, WriteHook); }
        if (v.CreateRuntime is { } createRuntime) { w.WritePropertyName("createRuntime"u8); WriteList(w, createRuntime, WriteHook); }
        if (v.CreateContainer is { } createContainer) { w.WritePropertyName("createContainer"u8); WriteList(w, createContainer, WriteHook); }
        if (v.StartContainer is { } startContainer) { w.WritePropertyName("startContainer"u8); WriteList(w, startContainer, WriteHook); }
        if (v.Poststart is { } poststart) { w.WritePropertyName("poststart"u8); WriteList(w, poststart, WriteHook); }
        if (v.Poststop is { } poststop) { w.WritePropertyName("poststop"u8); WriteList(w, poststop, WriteHook); }
        w.WriteEndObject();
    }

    private static void WriteHook(Utf8JsonWriter w, Hook v)
    {
        w.WriteStartObject();
        if (v.Path is { } path) w.WriteString("path"u8, path);
        if (v.Args is { } args) { w.WritePropertyName("args"u8); WriteStringList(w, args); }
        if (v.Env is { } env) { w.WritePropertyName("env"u8); WriteStringList(w, env); }
        if (v.Timeout is { } timeout) w.WriteNumber("timeout"u8, timeout);
        w.WriteEndObject();
    }

    private static void WriteLinux(Utf8JsonWriter w, Linux v)
    {
        w.WriteStartObject();
        if (v.Namespaces is { } namespaces) { w.WritePropertyName("namespaces"u8); WriteList(w, namespaces, WriteNamespace); }
        if (v.UidMappings is { } uidMappings) { w.WritePropertyName("uidMappings"u8); WriteList(w, uidMappings, WriteIdMapping); }
        if (v.GidMappings is { } gidMappings) { w.WritePropertyName("gidMappings"u8); WriteList(w, gidMappings, WriteIdMapping); }
        if (v.TimeOffsets is { } timeOffsets) { w.WritePropertyName("timeOffsets"u8); WriteMap(w, timeOffsets, WriteTimeOffset); }
        if (v.Devices is { } devices) { w.WritePropertyName("devices"u8); WriteList(w, devices, WriteDevice); }
        if (v.NetDevices is { } netDevices) { w.WritePropertyName("netDevices"u8); WriteMap(w, netDevices, WriteNetDevice); }
        if (v.CgroupsPath is { } cgroupsPath) w.WriteString("cgroupsPath"u8, cgroupsPath);
        if (v.Resources is { } resources) { w.WritePropertyName("resources"u8); WriteResources(w, resources); }
        if (v.RootfsPropagation is { } rootfsPropagation) w.WriteString("rootfsPropagation"u8, rootfsPropagation);
        if (v.Seccomp is { } seccomp) { w.WritePropertyName("seccomp"u8); WriteSeccomp(w, seccomp); }
        if (v.Sysctl is { } sysctl) { w.WritePropertyName("sysctl"u8); WriteStringMap(w, sysctl); }
        if (v.MaskedPaths is { } maskedPaths) { w.WritePropertyName("maskedPaths"u8); WriteStringList(w, maskedPaths); }
        if (v.ReadonlyPaths is { } readonlyPaths) { w.WritePropertyName("readonlyPaths"u8); WriteStringList(w, readonlyPaths); }
        if (v.MountLabel is { } mountLabel) w.WriteString("mountLabel"u8, mountLabel);
        if (v.Personality is { } personality) { w.WritePropertyName("personality"u8); WritePersonality(w, personality); }
        if (v.IntelRdt is { } intelRdt) { w.WritePropertyName("intelRdt"u8); WriteIntelRdt(w, intelRdt); }
        if (v.MemoryPolicy is { } memoryPolicy) { w.WritePropertyName("memoryPolicy"u8); WriteMemoryPolicy(w, memoryPolicy); }
        w.WriteEndObject();
    }

    private static void WriteNamespace(Utf8JsonWriter w, Namespace v)
    {
        w.WriteStartObject();
        if (v.Type is { } type) w.WriteString("type"u8, type);
        if (v.Path is { } path) w.WriteString("path"u8, path);
        w.WriteEndObject();
    }

    private static void WriteTimeOffset(Utf8JsonWriter w, TimeOffset v)
    {
        w.WriteStartObject();
        w.WriteNumber("secs"u8, v.Secs);
        w.WriteNumber("nanosecs"u8, v.Nanosecs);
        w.WriteEndObject();
    }

    private static void WriteDevice(Utf8JsonWriter w, Device v)
    {
        w.WriteStartObject();
        if (v.Type is { } type) w.WriteString("type"u8, type);
        if (v.Path is { } path) w.WriteString("path"u8, path);
        w.WriteNumber("major"u8, v.Major);
        w.WriteNumber("minor"u8, v.Minor);
        if (v.FileMode is { } fileMode) w.WriteNumber("fileMode"u8, fileMode);
        if (v.Uid is { } uid) w.WriteNumber("uid"u8, uid);
        if (v.Gid is { } gid) w.WriteNumber("gid"u8, gid);
        w.WriteEndObject();
    }

    private static void WriteNetDevice(Utf8JsonWriter w, NetDevice v)
    {
        w.WriteStartObject();
        if (v.Name is { } name) w.WriteString("name"u8, name);
        w.WriteEndObject();
    }

    private static void WritePersonality(Utf8JsonWriter w, Personality v)
    {
        w.WriteStartObject();
        if (v.Domain is { } domain) w.WriteString("domain"u8, domain);
        if (v.Flags is { } flags) { w.WritePropertyName("flags"u8); WriteStringList(w, flags); }
        w.WriteEndObject();
    }

    private static void WriteIntelRdt(Utf8JsonWriter w, IntelRdt v)
    {
        w.WriteStartObject();
        if (v.ClosId is { } closId) w.WriteString("closID"u8, closId);
        if (v.L3CacheSchema is { } l3CacheSchema) w.WriteString("l3CacheSchema"u8, l3CacheSchema);
        if (v.MemBwSchema is { } memBwSchema) w.WriteString("memBwSchema"u8, memBwSchema);
        w.WriteEndObject();
    }

    private static void WriteMemoryPolicy(Utf8JsonWriter w, MemoryPolicy v)
    {
        w.WriteStartObject();
        if (v.Mode is { } mode) w.WriteString("mode"u8, mode);
        if (v.Nodes is { } nodes) w.WriteString("nodes"u8, nodes);
        if (v.Flags is { } flags) { w.WritePropertyName("flags"u8); WriteStringList(w, flags); }
        w.WriteEndObject();
    }

    private static void WriteResources(Utf8JsonWriter w, Resources v)
    {
        w.WriteStartObject();
        if (v.Devices is { } devices) { w.WritePropertyName("devices"u8); WriteList(w, devices, WriteDeviceCgroup); }
        if (v.Memory is { } memory) { w.WritePropertyName("memory"u8); WriteMemoryResources(w, memory); }
        if (v.Cpu is { } cpu) { w.WritePropertyName("cpu"u8); WriteCpuResources(w, cpu); }
        if (v.Pids is { } pids) { w.WritePropertyName("pids"u8); WritePidsResources(w, pids); }
        if (v.BlockIo is { } blockIo) { w.WritePropertyName("blockIO"u8); WriteBlockIo(w, blockIo); }
        if (v.HugepageLimits is { } hugepageLimits) { w.WritePropertyName("hugepageLimits"u8); WriteList(w, hugepageLimits, WriteHugepageLimit); }
        if (v.Network is { } network) { w.WritePropertyName("network"u8); WriteNetworkResources(w, network); }
        if (v.Rdma is { } rdma) { w.WritePropertyName("rdma"u8); WriteMap(w, rdma, WriteRdmaLimit); }
        if (v.Unified is { } unified) { w.WritePropertyName("unified"u8); WriteStringMap(w, unified); }
        w.WriteEndObject();
    }

    private static void WriteDeviceCgroup(Utf8JsonWriter w, DeviceCgroup v)
    {
        w.WriteStartObject();
        w.WriteBoolean("allow"u8, v.Allow);
        if (v.Type is { } type) w.WriteString("type"u8, type);
        if (v.Major is { } major) w.WriteNumber("major"u8, major);
        if (v.Minor is { } minor) w.WriteNumber("minor"u8, minor);
        if (v.Access is { } access) w.WriteString("access"u8, access);
        w.WriteEndObject();
    }

    private static void WriteMemoryResources(Utf8JsonWriter w, MemoryResources v)
    {
        w.WriteStartObject();
        if (v.Limit is { } limit) w.WriteNumber("limit"u8, limit);
        if (v.Reservation is { } reservation) w.WriteNumber("reservation"u8, reservation);
        if (v.Swap is { } swap) w.WriteNumber("swap"u8, swap);
        if (v.Kernel is { } kernel) w.WriteNumber("kernel"u8, kernel);
        if (v.KernelTcp is { } kernelTcp) w.WriteNumber("kernelTCP"u8, kernelTcp);
        if (v.Swappiness is { } swappiness) w.WriteNumber("swappiness"u8, swappiness);
        if (v.DisableOomKiller is { } disableOomKiller) w.WriteBoolean("disableOOMKiller"u8, disableOomKiller);
        if (v.UseHierarchy is { } useHierarchy) w.WriteBoolean("useHierarchy"u8, useHierarchy);
        if (v.CheckBeforeUpdate is { } checkBeforeUpdate) w.WriteBoolean("checkBeforeUpdate"u8, checkBeforeUpdate);
        w.WriteEndObject();
    }

    private static void WriteCpuResources(Utf8JsonWriter w, CpuResources v)
    {
        w.WriteStartObject();
        if (v.Shares is { } shares) w.WriteNumber("shares"u8, shares);
        if (v.Quota is { } quota) w.WriteNumber("quota"u8, quota);
        if (v.Burst is { } burst) w.WriteNumber("burst"u8, burst);
        if (v.Period is { } period) w.WriteNumber("period"u8, period);
        if (v.RealtimeRuntime is { } realtimeRuntime) w.WriteNumber("realtimeRuntime"u8, realtimeRuntime);
        if (v.RealtimePeriod is { } realtimePeriod) w.WriteNumber("realtimePeriod"u8, realtimePeriod);
        if (v.Cpus is { } cpus) w.WriteString("cpus"u8, cpus);
        if (v.Mems is { } mems) w.WriteString("mems"u8, mems);
        if (v.Idle is { } idle) w.WriteNumber("idle"u8, idle);
        w.WriteEndObject();
    }

    private static void WritePidsResources(Utf8JsonWriter w, PidsResources v)
    {
        w.WriteStartObject();
        w.WriteNumber("limit"u8, v.Limit);
        w.WriteEndObject();
    }

    private static void WriteBlockIo(Utf8JsonWriter w, BlockIo v)
    {
        w.WriteStartObject();
        if (v.Weight is { } weight) w.WriteNumber("weight"u8, weight);
        if (v.LeafWeight is { } leafWeight) w.WriteNumber("leafWeight"u8, leafWeight);
        if (v.WeightDevice is { } weightDevice) { w.WritePropertyName("weightDevice"u8); WriteList(w, weightDevice, WriteWeightDevice); }
        if (v.ThrottleReadBpsDevice is { } throttleReadBpsDevice) { w.WritePropertyName("throttleReadBpsDevice"u8); WriteList(w, throttleReadBpsDevice, WriteThrottleDevice); }
        if (v.ThrottleWriteBpsDevice is { } throttleWriteBpsDevice) { w.WritePropertyName("throttleWriteBpsDevice"u8); WriteList(w, throttleWriteBpsDevice, WriteThrottleDevice); }
        if (v.ThrottleReadIopsDevice is { } throttleReadIopsDevice) { w.WritePropertyName("throttleReadIOPSDevice"u8); WriteList(w, throttleReadIopsDevice, WriteThrottleDevice); }
        if (v.ThrottleWriteIopsDevice is { } throttleWriteIopsDevice) { w.WritePropertyName("throttleWriteIOPSDevice"u8); WriteList(w, throttleWriteIopsDevice, WriteThrottleDevice); }
        w.WriteEndObject();
    }

    private static void WriteWeightDevice(Utf8JsonWriter w, WeightDevice v)
    {
        w.WriteStartObject();
        w.WriteNumber("major"u8, v.Major);
        w.WriteNumber("minor"u8, v.Minor);
        if (v.Weight is { } weight) w.WriteNumber("weight"u8, weight);
        if (v.LeafWeight is { } leafWeight) w.WriteNumber("leafWeight"u8, leafWeight);
        w.WriteEndObject();
    }

    private static void WriteThrottleDevice(Utf8JsonWriter w, ThrottleDevice v)
    {
        w.WriteStartObject();
        w.WriteNumber("major"u8, v.Major);
        w.WriteNumber("minor"u8, v.Minor);
        w.WriteNumber("rate"u8, v.Rate);
        w.WriteEndObject();
    }

    private static void WriteHugepageLimit(Utf8JsonWriter w, HugepageLimit v)
    {
        w.WriteStartObject();
        if (v.PageSize is { } pageSize) w.WriteString("pageSize"u8, pageSize);
        w.WriteNumber("limit"u8, v.Limit);
        w.WriteEndObject();
    }

    private static void WriteNetworkResources(Utf8JsonWriter w, NetworkResources v)
    {
        w.WriteStartObject();
        if (v.ClassId is { } classId) w.WriteNumber("classID"u8, classId);
        if (v.Priorities is { } priorities) { w.WritePropertyName("priorities"u8); WriteList(w, priorities, WriteInterfacePriority); }
        w.WriteEndObject();
    }

    private static void WriteInterfacePriority(Utf8JsonWriter w, InterfacePriority v)
    {
        w.WriteStartObject();
        if (v.Name is { } name) w.WriteString("name"u8, name);
        w.WriteNumber("priority"u8, v.Priority);
        w.WriteEndObject();
    }

    private static void WriteRdmaLimit(Utf8JsonWriter w, RdmaLimit v)
    {
        w.WriteStartObject();
        if (v.HcaHandles is { } hcaHandles) w.WriteNumber("hcaHandles"u8, hcaHandles);
        if (v.HcaObjects is { } hcaObjects) w.WriteNumber("hcaObjects"u8, hcaObjects);
        w.WriteEndObject();
    }

    private static void WriteSeccomp(Utf8JsonWriter w, Seccomp v)
    {
        w.WriteStartObject();
        if (v.DefaultAction is { } defaultAction) w.WriteString("defaultAction"u8, defaultAction);
        if (v.DefaultErrnoRet is { } defaultErrnoRet) w.WriteNumber("defaultErrnoRet"u8, defaultErrnoRet);
        if (v.Architectures is { } architectures) { w.WritePropertyName("architectures"u8); WriteStringList(w, architectures); }
        if (v.Flags is { } flags) { w.WritePropertyName("flags"u8); WriteStringList(w, flags); }
        if (v.ListenerPath is { } listenerPath) w.WriteString("listenerPath"u8, listenerPath);
        if (v.ListenerMetadata is { } listenerMetadata) w.WriteString("listenerMetadata"u8, listenerMetadata);
        if (v.Syscalls is { } syscalls) { w.WritePropertyName("syscalls"u8); WriteList(w, syscalls, WriteSeccompSyscall); }
        w.WriteEndObject();
    }

    private static void WriteSeccompSyscall(Utf8JsonWriter w, SeccompSyscall v)
    {
        w.WriteStartObject();
        if (v.Names is { } names) { w.WritePropertyName("names"u8); WriteStringList(w, names); }
        if (v.Action is { } action) w.WriteString("action"u8, action);
        if (v.ErrnoRet is { } errnoRet) w.WriteNumber("errnoRet"u8, errnoRet);
        if (v.Args is { } args) { w.WritePropertyName("args"u8); WriteList(w, args, WriteSeccompArg); }
        w.WriteEndObject();
    }

    private static void WriteSeccompArg(Utf8JsonWriter w, SeccompArg v)
    {
        w.WriteStartObject();
        w.WriteNumber("index"u8, v.Index);
        w.WriteNumber("value"u8, v.Value);
        w.WriteNumber("valueTwo"u8, v.ValueTwo);
        if (v.Op is { } op) w.WriteString("op"u8, op);
        w.WriteEndObject();
    }
}
