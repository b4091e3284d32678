using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Init;

namespace Dashboard.Runtime.Tests.Integration;

/// <summary>Propagation flags on filesystem (non-bind) mounts, set through the detached mount's fd (and by path on kernels without mount_setattr).</summary>
[Trait("Requires", "root")]
public sealed class PropagationTests : IDisposable
{
    private readonly RuntimeHarness _rt = new();

    public void Dispose() => _rt.Dispose();

    [Theory]
    [InlineData("shared", false, "shared:")]
    [InlineData("rshared", false, "shared:")]
    [InlineData("unbindable", false, "unbindable")]
    [InlineData("shared", true, "shared:")]
    [InlineData("unbindable", true, "unbindable")]
    public void TmpfsMount_PropagationFlag_IsApplied(string propagation, bool noMountSetattr, string expectedTag)
    {
        if (noMountSetattr)
        {
            _rt.ExtraEnvironment[RootfsSetup.NoMountSetattrVariable] = "1";
        }

        var bundle = _rt.Bundle(spec =>
        {
            spec.Process!.Args = ["sh", "-c", "grep ' /scratch ' /proc/self/mountinfo; echo x > /scratch/f && cat /scratch/f"];
            spec.Mounts!.Add(new Mount { Destination = "/scratch", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "nodev", "mode=755", "size=1m", propagation] });
        });
        var result = _rt.RunContainer(bundle);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        var fields = lines[0].Split(" - ")[0].Split(' ');
        Assert.Equal("/scratch", fields[4]);
        Assert.Contains("nosuid", fields[5], StringComparison.Ordinal);
        Assert.Contains("nodev", fields[5], StringComparison.Ordinal);
        Assert.Contains(fields.Skip(6), f => f.StartsWith(expectedTag, StringComparison.Ordinal));
        Assert.Contains("size=1024k", lines[0], StringComparison.Ordinal);
        Assert.Equal("x", lines[1]);
    }
}
