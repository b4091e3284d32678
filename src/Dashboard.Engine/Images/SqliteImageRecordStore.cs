using Dashboard.Engine.Store;
using Dashboard.Images.Records;
using Dashboard.Oci;
using Microsoft.EntityFrameworkCore;
using ImageRecord = Dashboard.Images.Records.ImageRecord;

namespace Dashboard.Engine.Images;

/// <summary>
/// Dashboard.Images' <see cref="IImageRecordStore"/> in the engine's SQLite: one <c>images</c> row per
/// image (id = config digest) and one <c>image_references</c> row per name. Names are compared
/// exactly (primary key, no LIKE: security.md E5 c); a name moves between images inside one
/// transaction, so a tag never names two images.
/// </summary>
public sealed class SqliteImageRecordStore(IDbContextFactory<EngineDbContext> factory) : IImageRecordStore
{
    public async Task<ImageRecord?> GetAsync(Digest id, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var key = id.ToString();
        var entity = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == key, cancellationToken);
        if (entity is null)
        {
            return null;
        }

        var names = await db.ImageReferences.AsNoTracking().Where(r => r.ImageId == key).Select(r => r.Reference).ToListAsync(cancellationToken);
        return ToRecord(entity, names);
    }

    public async Task<IReadOnlyList<ImageRecord>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var images = await db.Images.AsNoTracking().ToListAsync(cancellationToken);
        var names = (await db.ImageReferences.AsNoTracking().ToListAsync(cancellationToken)).ToLookup(r => r.ImageId, r => r.Reference, StringComparer.Ordinal);
        return images.Select(i => ToRecord(i, names[i.Id])).OrderBy(r => r.Id.ToString(), StringComparer.Ordinal).ToList();
    }

    public async Task PutAsync(ImageRecord record, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var key = record.Id.ToString();
        var entity = await db.Images.FirstOrDefaultAsync(i => i.Id == key, cancellationToken);
        if (entity is null)
        {
            entity = new ImageEntity { Id = key };
            db.Images.Add(entity);
        }

        entity.CreatedNano = SqliteContainerStore.ToNano(record.Created)!.Value;
        entity.Size = record.Size;
        entity.ManifestDigest = record.ManifestDigest.ToString();
        entity.ManifestMediaType = record.ManifestMediaType;
        entity.Os = record.Os;
        entity.Architecture = record.Architecture;
        await db.SaveChangesAsync(cancellationToken);

        var names = record.Names.Distinct(StringComparer.Ordinal).ToList();
        await db.ImageReferences.Where(r => r.ImageId == key && !names.Contains(r.Reference)).ExecuteDeleteAsync(cancellationToken);
        await db.ImageReferences.Where(r => names.Contains(r.Reference)).ExecuteDeleteAsync(cancellationToken);
        db.ImageReferences.AddRange(names.Select(n => new ImageReferenceEntity { Reference = n, ImageId = key }));
        await db.SaveChangesAsync(cancellationToken);
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
        var id = await db.ImageReferences.AsNoTracking().Where(r => r.Reference == normalizedName).Select(r => r.ImageId).FirstOrDefaultAsync(cancellationToken);
        return id is null ? null : Digest.Parse(id);
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
