using Dashboard.Engine.Store;
using Dashboard.Images.Records;
using Dashboard.Oci;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using ImageRecord = Dashboard.Images.Records.ImageRecord;

namespace Dashboard.Engine.Images;

/// <summary>
/// Dashboard.Images' <see cref="IImageRecordStore"/> in the engine's SQLite: one <c>images</c> row per
/// image (id = config digest) and one <c>image_references</c> row per name. Names are compared
/// exactly (primary key, no LIKE: security.md E5 c); a name moves between images inside one
/// transaction, so a tag never names two images. Get, put and find-by-name (the paths an idle engine and an
/// image load take) are plain SQL on the context's pooled connection: a LINQ query or SaveChanges would load EF's
/// query and update pipelines for good (issue 4 bench d).
/// </summary>
public sealed class SqliteImageRecordStore(IDbContextFactory<EngineDbContext> factory) : IImageRecordStore
{
    public async Task<ImageRecord?> GetAsync(Digest id, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var connection = await db.OpenSqliteConnectionAsync(cancellationToken);
        var key = id.ToString();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Id, CreatedNano, Size, ManifestDigest, ManifestMediaType, Os, Architecture FROM images WHERE Id = $id";
        command.Parameters.AddWithValue("$id", key);
        ImageEntity entity;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            entity = new ImageEntity
            {
                Id = reader.GetString(0),
                CreatedNano = reader.GetInt64(1),
                Size = reader.GetInt64(2),
                ManifestDigest = reader.GetString(3),
                ManifestMediaType = reader.GetString(4),
                Os = reader.GetString(5),
                Architecture = reader.GetString(6),
            };
        }

        command.CommandText = "SELECT Reference FROM image_references WHERE ImageId = $id";
        var names = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                names.Add(reader.GetString(0));
            }
        }

        return ToRecord(entity, names);
    }

    public async Task<IReadOnlyList<ImageRecord>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var images = await db.Images.AsNoTracking().ToListAsync(cancellationToken);
        var names = (await db.ImageReferences.AsNoTracking().ToListAsync(cancellationToken)).ToLookup(r => r.ImageId, r => r.Reference, StringComparer.Ordinal);
        return images.Select(i => ToRecord(i, names[i.Id])).OrderBy(r => r.Id.ToString(), StringComparer.Ordinal).ToList();
    }

    /// <summary>The row (its config JSON, written elsewhere, left as it is) and exactly these names, in one transaction.</summary>
    public async Task PutAsync(ImageRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var connection = await db.OpenSqliteConnectionAsync(cancellationToken);
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
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var key = id.ToString();
        return await db.Images.Where(i => i.Id == key).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    /// <summary>The image a name points at, by exact match on the reference key.</summary>
    public async Task<Digest?> FindByNameAsync(string normalizedName, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var connection = await db.OpenSqliteConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT ImageId FROM image_references WHERE Reference = $name LIMIT 1";
        command.Parameters.AddWithValue("$name", normalizedName);
        return await command.ExecuteScalarAsync(cancellationToken) is string id ? Digest.Parse(id) : null;
    }

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
