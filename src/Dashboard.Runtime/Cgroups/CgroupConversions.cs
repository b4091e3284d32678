namespace Dashboard.Runtime.Cgroups;

/// <summary>The runtime-spec speaks cgroup v1 units; these map them to v2 the way runc does, so both runtimes set the same values.</summary>
public static class CgroupConversions
{
    /// <summary>cpu.shares [2, 262144] → cpu.weight [1, 10000], linearly (runc's formula); 0 means unset.</summary>
    public static ulong CpuSharesToWeight(ulong shares)
    {
        if (shares == 0)
        {
            return 0;
        }

        var clamped = Math.Clamp(shares, 2UL, 262144UL);
        return 1 + ((clamped - 2) * 9999 / 262142);
    }

    /// <summary>blkio.weight [10, 1000] → io.weight [1, 10000], linearly; 0 means unset.</summary>
    public static ulong BlkioWeightToIoWeight(ushort weight)
    {
        if (weight == 0)
        {
            return 0;
        }

        var clamped = Math.Clamp((ulong)weight, 10UL, 1000UL);
        return 1 + ((clamped - 10) * 9999 / 990);
    }

    /// <summary>
    /// The spec's <c>memory.swap</c> is memory+swap (v1 memsw); v2's memory.swap.max is swap alone.
    /// Returns 0 for "leave unset", -1 for "max".
    /// </summary>
    public static long SwapToV2(long memorySwap, long memory)
    {
        // Unlimited memory with no swap setting means both unlimited, as v1 behaves.
        if (memory == -1 && memorySwap == 0)
        {
            return -1;
        }

        if (memorySwap is -1 or 0 || memory == -1)
        {
            return memorySwap;
        }

        if (memory == 0)
        {
            throw new CgroupException(CgroupErrorKind.InvalidSpec, "unable to set swap limit without memory limit");
        }

        if (memory < 0)
        {
            throw new CgroupException(CgroupErrorKind.InvalidSpec, $"invalid memory value: {memory}");
        }

        return memorySwap < memory
            ? throw new CgroupException(CgroupErrorKind.InvalidSpec, "memory+swap limit should be >= memory limit")
            : memorySwap - memory;
    }
}
