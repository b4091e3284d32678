using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Cgroups;
using static Dashboard.Runtime.Cgroups.DeviceFilter;

namespace Dashboard.Runtime.Tests.Cgroups;

public sealed class DeviceFilterTests
{
    private const int Rwm = AccMknod | AccRead | AccWrite;

    [Fact]
    public void Compile_NoRules_DeniesEverything()
    {
        var program = Compile([]);

        Assert.False(Evaluate(program, DevChar, AccRead, 1, 3));
        Assert.False(Evaluate(program, DevBlock, AccMknod, 8, 0));
    }

    [Fact]
    public void Compile_DefaultAllowList_AllowsExactlyTheDefaultDevices()
    {
        var program = Compile(CgroupDeviceRules.Effective(new Dashboard.Oci.Runtime.Linux
        {
            Resources = new Resources { Devices = [new DeviceCgroup { Allow = false, Access = "rwm" }] },
        }));

        Assert.True(Evaluate(program, DevChar, AccRead | AccWrite, 1, 3));      // /dev/null
        Assert.True(Evaluate(program, DevChar, AccRead, 1, 9));                 // /dev/urandom
        Assert.True(Evaluate(program, DevChar, AccRead | AccWrite, 136, 4));    // /dev/pts/4
        Assert.True(Evaluate(program, DevChar, AccMknod, 8, 0));                // mknod of any char device
        Assert.True(Evaluate(program, DevBlock, AccMknod, 8, 0));
        Assert.False(Evaluate(program, DevBlock, AccRead, 8, 0));               // /dev/sda
        Assert.False(Evaluate(program, DevChar, AccRead | AccWrite, 1, 1));     // /dev/mem
        Assert.False(Evaluate(program, DevChar, AccRead, 10, 229));             // /dev/fuse, not listed
    }

    [Fact]
    public void Compile_LaterRuleWins()
    {
        var program = Compile(
        [
            new DeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" },
            new DeviceCgroup { Allow = false, Type = "c", Major = 1, Minor = 3, Access = "w" },
        ]);

        Assert.True(Evaluate(program, DevChar, AccRead, 1, 3));
        Assert.False(Evaluate(program, DevChar, AccWrite, 1, 3));
        Assert.False(Evaluate(program, DevChar, AccRead | AccWrite, 1, 4));
    }

    [Fact]
    public void Compile_AllowAllAfterRules_ResetsToAllow()
    {
        var program = Compile(
        [
            new DeviceCgroup { Allow = false, Type = "c", Major = 1, Minor = 3 },
            new DeviceCgroup { Allow = true },
            new DeviceCgroup { Allow = false, Type = "b", Major = 8 },
        ]);

        Assert.True(Evaluate(program, DevChar, Rwm, 1, 3));
        Assert.False(Evaluate(program, DevBlock, AccRead, 8, 1));
        Assert.True(Evaluate(program, DevBlock, AccRead, 9, 1));
    }

    [Fact]
    public void Compile_PartialAccessWildcardType_MatchesBothTypes()
    {
        var program = Compile([new DeviceCgroup { Allow = true, Type = "a", Access = "r" }]);

        Assert.True(Evaluate(program, DevChar, AccRead, 4, 4));
        Assert.True(Evaluate(program, DevBlock, AccRead, 8, 0));
        Assert.False(Evaluate(program, DevBlock, AccRead | AccWrite, 8, 0));
    }

    [Fact]
    public void Compile_BadAccess_IsInvalidSpec()
    {
        Assert.Throws<CgroupException>(() => Compile([new DeviceCgroup { Allow = true, Type = "c", Access = "x" }]));
    }
}
