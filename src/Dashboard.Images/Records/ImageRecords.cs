using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Oci;

namespace Dashboard.Images.Records;

/// <summary>
/// One image known to the store. Its id is the config digest (as Docker's image id); the manifest
/// digest is what a registry or layout named. Names are full references (<c>repo:tag</c>).
/// </summary>
public sealed record ImageRecord
{
    [JsonPropertyName("id")] public required Digest Id { get; init; }
    [JsonPropertyName("manifestDigest")] public required Digest ManifestDigest { get; init; }
    [JsonPropertyName("manifestMediaType")] public required string ManifestMediaType { get; init; }
    [JsonPropertyName("names")] public IReadOnlyList<string> Names { get; init; } = [];
    [JsonPropertyName("created")] public DateTimeOffset Created { get; init; }
    [JsonPropertyName("os")] public string Os { get; init; } = "linux";
    [JsonPropertyName("architecture")] public string Architecture { get; init; } = string.Empty;

    /// <summary>Sum of the compressed layer blobs and the config.</summary>
    [JsonPropertyName("size")] public long Size { get; init; }
}

/// <summary>
/// Persistence of image records. The engine keeps them in SQLite; this library ships an in-memory
/// and a JSON-file implementation, both run through one contract test suite.
/// </summary>
public interface IImageRecordStore
{
    Task<ImageRecord?> GetAsync(Digest id, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ImageRecord>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces the record with the same id. A name moves here from any other record.</summary>
    Task PutAsync(ImageRecord record, CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(Digest id, CancellationToken cancellationToken = default);
}

public sealed class InMemoryImageRecordStore : IImageRecordStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Digest, ImageRecord> _records = [];

    public Task<ImageRecord?> GetAsync(Digest id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_records.GetValueOrDefault(id));
        }
    }

    public Task<IReadOnlyList<ImageRecord>> ListAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<ImageRecord>>(_records.Values.OrderBy(r => r.Id.ToString(), StringComparer.Ordinal).ToList());
        }
    }

    public Task PutAsync(ImageRecord record, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            RecordNames.MoveNames(_records, record);
        }

        return Task.CompletedTask;
    }

    public Task<bool> DeleteAsync(Digest id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_records.Remove(id));
        }
    }
}

/// <summary>Records in one JSON file, rewritten atomically (temp file, fsync, rename) on every change.</summary>
public sealed class JsonFileImageRecordStore : IImageRecordStore
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _path;

    public JsonFileImageRecordStore(string path)
    {
        _path = Path.GetFullPath(path);
    }

    public async Task<ImageRecord?> GetAsync(Digest id, CancellationToken cancellationToken = default) =>
        (await LoadAsync(cancellationToken)).GetValueOrDefault(id);

    public async Task<IReadOnlyList<ImageRecord>> ListAsync(CancellationToken cancellationToken = default) =>
        (await LoadAsync(cancellationToken)).Values.OrderBy(r => r.Id.ToString(), StringComparer.Ordinal).ToList();

    public async Task PutAsync(ImageRecord record, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var records = await LoadAsync(cancellationToken);
            RecordNames.MoveNames(records, record);
            await SaveAsync(records, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<bool> DeleteAsync(Digest id, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var records = await LoadAsync(cancellationToken);
            if (!records.Remove(id))
            {
                return false;
            }

            await SaveAsync(records, cancellationToken);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<Dictionary<Digest, ImageRecord>> LoadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(_path))
        {
            return [];
        }

        await using var stream = File.OpenRead(_path);
        var list = await JsonSerializer.DeserializeAsync(stream, ImageRecordJsonContext.Default.ListImageRecord, cancellationToken) ?? [];
        return list.ToDictionary(r => r.Id);
    }

    private async Task SaveAsync(Dictionary<Digest, ImageRecord> records, CancellationToken cancellationToken)
    {
        var temp = _path + ".tmp-" + Guid.NewGuid().ToString("N");
        await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
        {
            await JsonSerializer.SerializeAsync(stream, records.Values.OrderBy(r => r.Id.ToString(), StringComparer.Ordinal).ToList(), ImageRecordJsonContext.Default.ListImageRecord, cancellationToken);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, _path, overwrite: true);
    }
}

/// <summary>
/// Source-generated (de)serialization of the records file: reflection-based System.Text.Json
/// compiled ~500 methods and emitted accessors on first use, a few hundred ms of a fresh
/// process's start before its first unpack.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, AllowDuplicateProperties = false)]
[JsonSerializable(typeof(List<ImageRecord>))]
internal sealed partial class ImageRecordJsonContext : JsonSerializerContext;

internal static class RecordNames
{
    /// <summary>Puts a record, taking each of its names away from any other record (a tag names one image).</summary>
    public static void MoveNames(Dictionary<Digest, ImageRecord> records, ImageRecord record)
    {
        foreach (var other in records.Values.Where(r => r.Id != record.Id).ToList())
        {
            var kept = other.Names.Except(record.Names, StringComparer.Ordinal).ToList();
            if (kept.Count != other.Names.Count)
            {
                records[other.Id] = other with { Names = kept };
            }
        }

        records[record.Id] = record;
    }
}
