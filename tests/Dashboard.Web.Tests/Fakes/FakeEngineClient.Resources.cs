using System.Collections.Concurrent;
using System.Text;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Tests.Fakes;

public sealed partial class FakeEngineClient
{
    public EngineInfo Info { get; set; } = new("host-1", "0.1.0", "Debian GNU/Linux 12", "6.1.0", 4, 8L << 30, 3, 2, 0, 1, 5);

    public ConcurrentDictionary<string, VolumeSummary> Volumes { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, NetworkSummary> Networks { get; } = new(StringComparer.Ordinal);

    /// <summary>What <see cref="BackupAsync"/> streams; null means the engine has no backup API (like Docker).</summary>
    public byte[]? BackupBytes { get; set; }

    public Exception? FailInfoWith { get; set; }

    public Task<EngineInfo> GetInfoAsync(CancellationToken cancellationToken) =>
        FailInfoWith is { } e ? Task.FromException<EngineInfo>(e) : Task.FromResult(Info);

    public Task<IReadOnlyList<VolumeSummary>> ListVolumesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<VolumeSummary>>(Volumes.Values.OrderBy(v => v.Name, StringComparer.Ordinal).ToList());

    public Task<string> InspectVolumeAsync(string name, CancellationToken cancellationToken) =>
        Volumes.TryGetValue(name, out var v)
            ? Task.FromResult($$"""{ "Name": "{{v.Name}}", "Mountpoint": "{{v.Mountpoint}}" }""")
            : Task.FromException<string>(new EngineException(EngineErrorKind.NotFound, $"inspect volume {name}: no such volume"));

    public async Task CreateVolumeAsync(string name, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        await Record("create-volume", name);
        Volumes[name] = new VolumeSummary(name, "local", $"/var/lib/dashboard/volumes/{name}/_data", DateTimeOffset.UnixEpoch, labels, []);
    }

    public async Task RemoveVolumeAsync(string name, bool force, CancellationToken cancellationToken)
    {
        await Record("remove-volume", name);
        Volumes.TryRemove(name, out _);
    }

    public async Task<PruneResult> PruneVolumesAsync(CancellationToken cancellationToken)
    {
        await Record("prune-volumes", "");
        var unused = Volumes.Values.Where(v => v.UsedBy.Count == 0).Select(v => v.Name).ToList();
        foreach (var name in unused)
        {
            Volumes.TryRemove(name, out _);
        }

        return new PruneResult(unused, 4096);
    }

    public Task<IReadOnlyList<NetworkSummary>> ListNetworksAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<NetworkSummary>>(Networks.Values.OrderBy(n => n.Name, StringComparer.Ordinal).ToList());

    public Task<string> InspectNetworkAsync(string id, CancellationToken cancellationToken) =>
        Networks.TryGetValue(id, out var n)
            ? Task.FromResult($$"""{ "Name": "{{n.Name}}", "Driver": "{{n.Driver}}" }""")
            : Task.FromException<string>(new EngineException(EngineErrorKind.NotFound, $"inspect network {id}: no such network"));

    public async Task<string> CreateNetworkAsync(string name, string driver, bool isInternal, CancellationToken cancellationToken)
    {
        await Record("create-network", name);
        var id = $"net{Networks.Count + 1:D4}" + new string('0', 60);
        Networks[id] = new NetworkSummary(id, name, driver, "local", isInternal, [], new Dictionary<string, string>(), []);
        return id;
    }

    public async Task RemoveNetworkAsync(string id, CancellationToken cancellationToken)
    {
        await Record("remove-network", id);
        Networks.TryRemove(id, out _);
    }

    public async Task<PruneResult> PruneNetworksAsync(CancellationToken cancellationToken)
    {
        await Record("prune-networks", "");
        var unused = Networks.Values.Where(n => n.UsedBy.Count == 0 && !n.IsPredefined).ToList();
        foreach (var n in unused)
        {
            Networks.TryRemove(n.Id, out _);
        }

        return new PruneResult([.. unused.Select(n => n.Name)], 0);
    }

    public Task<EngineBackup> BackupAsync(CancellationToken cancellationToken) =>
        BackupBytes is { } bytes
            ? Task.FromResult(new EngineBackup(new MemoryStream(bytes), "20261130000000_Fake"))
            : Task.FromException<EngineBackup>(new EngineException(EngineErrorKind.NotFound, "backup of engine local: this engine has no backup API"));

    /// <summary>What <see cref="RestoreAsync"/> received; set <see cref="FailRestoreWith"/> to have it refused.</summary>
    public byte[]? RestoredBytes { get; private set; }

    public Exception? FailRestoreWith { get; set; }

    public async Task<string> RestoreAsync(Stream database, CancellationToken cancellationToken)
    {
        if (FailRestoreWith is { } e)
        {
            throw e;
        }

        using var copy = new MemoryStream();
        await database.CopyToAsync(copy, cancellationToken);
        RestoredBytes = copy.ToArray();
        return "20261130000000_Fake";
    }

    public static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);
}
