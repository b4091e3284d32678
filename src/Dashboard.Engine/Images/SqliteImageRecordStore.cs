using Dashboard.Engine.Store;
using Dashboard.Images.Records;
using Dashboard.Oci;
using Microsoft.Data.Sqlite;
using ImageRecord = Dashboard.Images.Records.ImageRecord;

namespace Dashboard.Engine.Images;

/// <summary>
/// Dashboard.Images' <see cref="IImageRecordStore"/> in the engine's SQLite: one <c>images</c> row per
/// image (id = config digest) and one <c>image_references</c> row per name. Names are compared
/// exactly (primary key, no LIKE: security.md E5 c); a name moves between images inside one
/// transaction, so a tag never names two images. Plain SQL on <see cref="EngineDatabase"/>'s pooled connections:
/// EF Core defines the tables but never runs in the engine (issue 4 bench d).
/// </summary>
public sealed class SqliteImageRecordStore(EngineDatabase database) : IImageRecordStore
{
    private const string Columns = "Id, CreatedNano, Size, ManifestDigest, ManifestMediaType, Os, Architecture";

    public async Task<ImageRecord?> GetAsync(Digest id, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var key = id.ToString();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM images WHERE Id = $id";
        command.Parameters.AddWithValue("$id", key);
        ImageEntity entity;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            entity = ReadEntity(reader);
        }

        command.CommandText = "SELECT Reference, ImageId FROM image_references WHERE ImageId = $id";
        var names = await ReadReferencesAsync(command, cancellationToken);
        return ToRecord(entity, names.Select(n => n.Reference));
    }

    public async Task<IReadOnlyList<ImageRecord>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Reference, ImageId FROM image_references";
        var references = await ReadReferencesAsync(command, cancellationToken);
        var names = references.ToLookup(r => r.ImageId, r => r.Reference, StringComparer.Ordinal);
        command.CommandText = $"SELECT {Columns} FROM images";
        var list = new List<ImageRecord>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var entity = ReadEntity(reader);
                list.Add(ToRecord(entity, names[entity.Id]));
            }
        }

        return list.OrderBy(r => r.Id.ToString(), StringComparer.Ordinal).ToList();
    }

    /// <summary>The row (ConfigJson stays <c>{}</c>: the config is read from the image store) and exactly these names, in one transaction.</summary>
    public async Task PutAsync(ImageRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var key = record.Id.ToString();
        await using (var upsert = connection.CreateCommand())
        {
            upsert.Transaction = tx;
            upsert.CommandText = """
                INSERT INTO images (Id, CreatedNano, Size, ConfigJson, ManifestDigest, ManifestMediaType, Os, Architecture)
                VALUES ($id, $created, $size, '{}', $manifest, $mediaType, $os, $arch)
                ON CONFLICT (Id) DO UPDATE SET CreatedNano = excluded.CreatedNano, Size = excluded.Size, ManifestDigest = excluded.ManifestDigest,
                    ManifestMediaType = excluded.ManifestMediaType, Os = excluded.Os, Architecture = excluded.Architecture
                """;
            upsert.Parameters.AddWithValue("$id", key);
            upsert.Parameters.AddWithValue("$created", SqliteContainerStore.ToNano(record.Created)!.Value);
            upsert.Parameters.AddWithValue("$size", record.Size);
            upsert.Parameters.AddWithValue("$manifest", record.ManifestDigest.ToString());
            upsert.Parameters.AddWithValue("$mediaType", record.ManifestMediaType);
            upsert.Parameters.AddWithValue("$os", record.Os);
            upsert.Parameters.AddWithValue("$arch", record.Architecture);
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var names = connection.CreateCommand())
        {
            names.Transaction = tx;
            names.CommandText = "DELETE FROM image_references WHERE ImageId = $id";
            names.Parameters.AddWithValue("$id", key);
            await names.ExecuteNonQueryAsync(cancellationToken);
            var name = names.Parameters.Add("$name", SqliteType.Text);
            foreach (var n in record.Names.Distinct(StringComparer.Ordinal))
            {
                name.Value = n;
                names.CommandText = "DELETE FROM image_references WHERE Reference = $name";
                await names.ExecuteNonQueryAsync(cancellationToken);
                names.CommandText = "INSERT INTO image_references (Reference, ImageId) VALUES ($name, $id)";
                await names.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await tx.CommitAsync(cancellationToken);
    }

    public async Task<bool> DeleteAsync(Digest id, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM images WHERE Id = $id";
        command.Parameters.AddWithValue("$id", id.ToString());
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>The image a name points at, by exact match on the reference key.</summary>
    public async Task<Digest?> FindByNameAsync(string normalizedName, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT ImageId FROM image_references WHERE Reference = $name LIMIT 1";
        command.Parameters.AddWithValue("$name", normalizedName);
        return await command.ExecuteScalarAsync(cancellationToken) is string id ? Digest.Parse(id) : null;
    }

    /// <summary>The rows of a <c>SELECT Reference, ImageId FROM image_references …</c>.</summary>
    private static async Task<List<(string Reference, string ImageId)>> ReadReferencesAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var references = new List<(string Reference, string ImageId)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            references.Add((reader.GetString(0), reader.GetString(1)));
        }

        return references;
    }

    private static ImageEntity ReadEntity(SqliteDataReader reader) => new()
    {
        Id = reader.GetString(0),
        CreatedNano = reader.GetInt64(1),
        Size = reader.GetInt64(2),
        ManifestDigest = reader.GetString(3),
        ManifestMediaType = reader.GetString(4),
        Os = reader.GetString(5),
        Architecture = reader.GetString(6),
    };

    private static ImageRecord ToRecord(ImageEntity e, IEnumerable<string> names) => new()
    {
        Id = Digest.Parse(e.Id),
        ManifestDigest = Digest.Parse(e.ManifestDigest),
        ManifestMediaType = e.ManifestMediaType,
        Names = names.Order(StringComparer.Ordinal).ToList(),
        Created = SqliteContainerStore.FromNano(e.CreatedNano),
        Os = e.Os,
        Architecture = e.Architecture,
        Size = e.Size,
    };
}
