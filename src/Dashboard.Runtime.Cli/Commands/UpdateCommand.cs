using System.Globalization;
using Dashboard.Oci.Runtime;

namespace Dashboard.Runtime.Cli.Commands;

public static class UpdateCommand
{
    public static FlagSet Flags => new FlagSet()
        .Value("resources", "r").Value("memory").Value("memory-swap").Value("memory-reservation").Value("kernel-memory")
        .Value("cpu-shares").Value("cpu-quota").Value("cpu-period").Value("cpu-rt-period").Value("cpu-rt-runtime")
        .Value("cpuset-cpus").Value("cpuset-mems").Value("pids-limit").Value("blkio-weight").Value("l3-cache-schema").Value("mem-bw-schema");

    public static int Run(Context context, CommandLine cmd)
    {
        var id = Context.RequireId(cmd, "update");
        var resources = cmd.Value("resources") is { } path
            ? RuntimeJson.ParseResources(path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path))
            : new Resources();

        if (cmd.Value("memory") is { } memory)
        {
            (resources.Memory ??= new MemoryResources()).Limit = ParseBytes(memory, "memory");
        }

        if (cmd.Value("memory-swap") is { } swap)
        {
            (resources.Memory ??= new MemoryResources()).Swap = ParseBytes(swap, "memory-swap");
        }

        if (cmd.Value("memory-reservation") is { } reservation)
        {
            (resources.Memory ??= new MemoryResources()).Reservation = ParseBytes(reservation, "memory-reservation");
        }

        if (cmd.Value("cpu-shares") is { } shares)
        {
            (resources.Cpu ??= new CpuResources()).Shares = (ulong)ParseLong(shares, "cpu-shares");
        }

        if (cmd.Value("cpu-quota") is { } quota)
        {
            (resources.Cpu ??= new CpuResources()).Quota = ParseLong(quota, "cpu-quota");
        }

        if (cmd.Value("cpu-period") is { } period)
        {
            (resources.Cpu ??= new CpuResources()).Period = (ulong)ParseLong(period, "cpu-period");
        }

        if (cmd.Value("cpuset-cpus") is { } cpus)
        {
            (resources.Cpu ??= new CpuResources()).Cpus = cpus;
        }

        if (cmd.Value("cpuset-mems") is { } mems)
        {
            (resources.Cpu ??= new CpuResources()).Mems = mems;
        }

        if (cmd.Value("pids-limit") is { } pids)
        {
            resources.Pids = new PidsResources { Limit = ParseLong(pids, "pids-limit") };
        }

        if (cmd.Value("blkio-weight") is { } weight)
        {
            (resources.BlockIo ??= new BlockIo()).Weight = (ushort)ParseLong(weight, "blkio-weight");
        }

        foreach (var warning in Container.Load(context.Store, id).Update(resources))
        {
            context.Log.Warn(warning);
        }

        return 0;
    }

    private static long ParseLong(string text, string flag) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new RuntimeException(ErrorKind.InvalidArgument, $"invalid value \"{text}\" for --{flag}");

    /// <summary>Sizes as runc takes them: a number of bytes, or with a k/m/g suffix; -1 for unlimited.</summary>
    private static long ParseBytes(string text, string flag)
    {
        if (text == "-1")
        {
            return -1;
        }

        var multiplier = char.ToLowerInvariant(text[^1]) switch { 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, 'b' => 1L, _ => 0 };
        var digits = multiplier == 0 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value * (multiplier == 0 ? 1 : multiplier)
            : throw new RuntimeException(ErrorKind.InvalidArgument, $"invalid value \"{text}\" for --{flag}");
    }
}
