using Dashboard.Runtime.Cgroups;

namespace Dashboard.Runtime.Tests.Cgroups;

public sealed class CgroupMountsTests
{
    [Fact]
    public void Parse_HybridMountInfo_IsHybridWithEveryV1Hierarchy()
    {
        var mounts = CgroupMounts.Parse(CgroupSamples.HybridMountInfo);

        Assert.Equal(CgroupLayout.Hybrid, mounts.Layout);
        Assert.Equal("/sys/fs/cgroup/unified", mounts.Unified?.MountPoint);
        Assert.Equal("/sys/fs/cgroup/memory", mounts.FindV1("memory")?.MountPoint);
        Assert.Equal(["net_cls", "net_prio"], mounts.FindV1("net_prio")!.Controllers);
        Assert.Equal("/sys/fs/cgroup/systemd", mounts.FindV1("name=systemd")?.MountPoint);
        Assert.Equal(11, mounts.V1.Count);
    }

    [Fact]
    public void Parse_LegacyMountInfo_IsLegacyWithComountsAndEscapes()
    {
        var mounts = CgroupMounts.Parse(CgroupSamples.LegacyMountInfo);

        Assert.Equal(CgroupLayout.Legacy, mounts.Layout);
        Assert.Null(mounts.Unified);
        Assert.Same(mounts.FindV1("cpu"), mounts.FindV1("cpuacct"));
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", mounts.FindV1("cpu")!.MountPoint);
        Assert.Equal("/sys/fs/cgroup/net cls", mounts.FindV1("net_cls")!.MountPoint);
        Assert.Equal(["name=systemd"], mounts.FindV1("name=systemd")!.Controllers);

        // The second mount of the memory hierarchy is a bind of a sub-cgroup, not another hierarchy.
        Assert.Equal("/sys/fs/cgroup/memory", mounts.FindV1("memory")!.MountPoint);
        Assert.Equal(6, mounts.V1.Count);
    }

    [Fact]
    public void Factory_LegacyHost_SharesOneDirectoryForComountedControllers()
    {
        var host = new CgroupHost(CgroupMounts.Parse(CgroupSamples.LegacyMountInfo), new Dictionary<string, string>(), "/nonexistent-root");

        var manager = CgroupManagerFactory.Create("c1", null, host);

        Assert.Equal(CgroupLayout.Legacy, manager.Layout);
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct/dashboard/c1", manager.Paths["cpu"]);
        Assert.Equal(manager.Paths["cpu"], manager.Paths["cpuacct"]);
        Assert.Equal("/sys/fs/cgroup/net cls/dashboard/c1", manager.Paths["net_cls"]);
        Assert.False(manager.Paths.ContainsKey(""));
        Assert.False(manager.Exists);
    }

    [Fact]
    public void Parse_UnifiedMountInfo_IsUnified()
    {
        var mounts = CgroupMounts.Parse(CgroupSamples.UnifiedMountInfo);

        Assert.Equal(CgroupLayout.Unified, mounts.Layout);
        Assert.Empty(mounts.V1);
        Assert.Equal("/sys/fs/cgroup", mounts.Unified!.MountPoint);
        Assert.True(mounts.Unified.IsV2);
    }

    [Fact]
    public void Parse_NoCgroupMount_IsUnsupported()
    {
        var e = Assert.Throws<CgroupException>(() => CgroupMounts.Parse("22 27 0:20 / /sys rw - sysfs sysfs rw\n"));

        Assert.Equal(CgroupErrorKind.Unsupported, e.Kind);
    }

    [Fact]
    public void ReadCurrent_ThisHost_FindsALayout()
    {
        var mounts = CgroupMounts.ReadCurrent();

        Assert.True(mounts.Unified is not null || mounts.V1.Count > 0);
        Assert.Equal(mounts.V1.Count == 0 ? CgroupLayout.Unified : mounts.Unified is null ? CgroupLayout.Legacy : CgroupLayout.Hybrid, mounts.Layout);
    }

    [Fact]
    public void ProcCgroupParse_Hybrid_MapsControllersAndUnified()
    {
        var own = ProcCgroup.Parse(CgroupSamples.HybridSelfCgroup);

        Assert.Equal("/process_api/242f", own["memory"]);
        Assert.Equal("/", own["net_prio"]);
        Assert.Equal("/", own["name=systemd"]);
        Assert.Equal("/", own[""]);
    }

    [Fact]
    public void ProcCgroupParse_Unified_HasOnlyTheV2Path()
    {
        var own = ProcCgroup.Parse(CgroupSamples.UnifiedSelfCgroup);

        Assert.Equal(new Dictionary<string, string> { [""] = "/system.slice/engine.service" }, own);
    }

    [Fact]
    public void ProcCgroupParse_Malformed_IsRejected()
    {
        Assert.Throws<CgroupException>(() => ProcCgroup.Parse("garbage\n"));
    }
}

public sealed class CgroupPathTests
{
    [Theory]
    [InlineData(null, "c1", "/dashboard/c1")]
    [InlineData("", "c1", "/dashboard/c1")]
    [InlineData("/kubepods/pod1/c1", "c1", "/kubepods/pod1/c1")]
    [InlineData("//a///b/", "c1", "/a/b")]
    [InlineData("pods/c1", "c1", "pods/c1")]
    [InlineData("system.slice:docker:abc", "c1", "system.slice:docker:abc")]
    public void Normalize_ValidPath_IsNormalised(string? input, string id, string expected)
    {
        Assert.Equal(expected, CgroupPath.Normalize(input, id));
    }

    [Theory]
    [InlineData("/dashboard/../../escape")]
    [InlineData("../sibling")]
    [InlineData("/a/./b")]
    [InlineData("/")]
    [InlineData("///")]
    [InlineData("/a\nb")]
    [InlineData("/a\0b")]
    [InlineData("/a\tb")]
    public void Normalize_EscapingOrMalformedPath_IsInvalidSpec(string input)
    {
        var e = Assert.Throws<CgroupException>(() => CgroupPath.Normalize(input, "c1"));

        Assert.Equal(CgroupErrorKind.InvalidSpec, e.Kind);
        Assert.StartsWith("invalid cgroupsPath", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Normalize_OverlongComponent_IsInvalidSpec()
    {
        var e = Assert.Throws<CgroupException>(() => CgroupPath.Normalize("/" + new string('x', 256), "c1"));

        Assert.Contains("255 bytes", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("")]
    public void Normalize_DefaultPathWithBadId_IsInvalidSpec(string id)
    {
        Assert.Throws<CgroupException>(() => CgroupPath.Normalize(null, id));
    }
}

public sealed class CgroupConversionsTests
{
    [Theory]
    [InlineData(0UL, 0UL)]
    [InlineData(2UL, 1UL)]
    [InlineData(1024UL, 39UL)]
    [InlineData(262144UL, 10000UL)]
    [InlineData(1UL, 1UL)]
    public void CpuSharesToWeight_RuncFormula(ulong shares, ulong weight)
    {
        Assert.Equal(weight, CgroupConversions.CpuSharesToWeight(shares));
    }

    [Theory]
    [InlineData((ushort)0, 0UL)]
    [InlineData((ushort)10, 1UL)]
    [InlineData((ushort)1000, 10000UL)]
    public void BlkioWeightToIoWeight_Linear(ushort weight, ulong expected)
    {
        Assert.Equal(expected, CgroupConversions.BlkioWeightToIoWeight(weight));
    }

    [Theory]
    [InlineData(0L, -1L, -1L)]
    [InlineData(-1L, 100L, -1L)]
    [InlineData(0L, 100L, 0L)]
    [InlineData(300L, 100L, 200L)]
    [InlineData(100L, 100L, 0L)]
    [InlineData(500L, -1L, 500L)]
    public void SwapToV2_SubtractsMemory(long swap, long memory, long expected)
    {
        Assert.Equal(expected, CgroupConversions.SwapToV2(swap, memory));
    }

    [Theory]
    [InlineData(100L, 0L)]
    [InlineData(100L, 200L)]
    public void SwapToV2_Inconsistent_IsInvalidSpec(long swap, long memory)
    {
        Assert.Throws<CgroupException>(() => CgroupConversions.SwapToV2(swap, memory));
    }
}
