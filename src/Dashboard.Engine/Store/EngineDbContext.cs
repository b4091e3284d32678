using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Dashboard.Engine.Store;

/// <summary>
/// The schema, for EF Core's tools (migrations, the compiled model, db/engine SQL) and the schema tests. The engine itself
/// runs plain SQL (<see cref="EngineDatabase"/>): EF Core needs reflection and run-time code generation, which the
/// NativeAOT engine does not have, so these attributes make any use of a context from engine code a build error.
/// </summary>
[System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode("EF Core is for design-time tools and tests only; the engine uses EngineDatabase.")]
[System.Diagnostics.CodeAnalysis.RequiresDynamicCode("EF Core is for design-time tools and tests only; the engine uses EngineDatabase.")]
public sealed class EngineDbContext(DbContextOptions<EngineDbContext> options) : DbContext(options)
{
    public DbSet<ContainerEntity> Containers => Set<ContainerEntity>();
    public DbSet<EventEntity> Events => Set<EventEntity>();
    public DbSet<VolumeEntity> Volumes => Set<VolumeEntity>();
    public DbSet<NetworkEntity> Networks => Set<NetworkEntity>();
    public DbSet<ImageEntity> Images => Set<ImageEntity>();
    public DbSet<ImageReferenceEntity> ImageReferences => Set<ImageReferenceEntity>();
    public DbSet<ExecSessionEntity> ExecSessions => Set<ExecSessionEntity>();
    public DbSet<StatsSampleEntity> StatsSamples => Set<StatsSampleEntity>();

    /// <summary>
    /// Options for a database file, for <c>dotnet ef</c> and the schema tests: the engine itself never creates a context
    /// (<see cref="EngineDatabase"/>); the connection string and pragmas are the engine's.
    /// </summary>
    public static DbContextOptions<EngineDbContext> CreateOptions(string databasePath) =>
        new DbContextOptionsBuilder<EngineDbContext>()
            .UseSqlite(EngineDatabase.ConnectionStringFor(databasePath))
            .AddInterceptors(SqlitePragmas.Instance)
            .Options;

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<ContainerEntity>(e =>
        {
            e.ToTable("containers");
            e.HasKey(c => c.Id);
            e.HasIndex(c => c.Name).IsUnique();
            e.Property(c => c.Id).HasMaxLength(64);
            e.Property(c => c.Name).HasMaxLength(255);
        });
        modelBuilder.Entity<EventEntity>(e =>
        {
            e.ToTable("events");
            e.HasKey(v => v.Seq);
            e.Property(v => v.Seq).ValueGeneratedOnAdd();
            e.HasIndex(v => v.TimeNano);
        });
        modelBuilder.Entity<VolumeEntity>(e =>
        {
            e.ToTable("volumes");
            e.HasKey(v => v.Name);
        });
        modelBuilder.Entity<NetworkEntity>(e =>
        {
            e.ToTable("networks");
            e.HasKey(n => n.Id);
            e.HasIndex(n => n.Name).IsUnique();
        });
        modelBuilder.Entity<ImageEntity>(e =>
        {
            e.ToTable("images");
            e.HasKey(i => i.Id);
        });
        modelBuilder.Entity<ImageReferenceEntity>(e =>
        {
            e.ToTable("image_references");
            e.HasKey(r => r.Reference);
            e.HasIndex(r => r.ImageId);
            e.HasOne<ImageEntity>().WithMany().HasForeignKey(r => r.ImageId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ExecSessionEntity>(e =>
        {
            e.ToTable("exec_sessions");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.ContainerId);
            e.HasOne<ContainerEntity>().WithMany().HasForeignKey(x => x.ContainerId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<StatsSampleEntity>(e =>
        {
            e.ToTable("stats_samples");
            e.HasKey(s => new { s.ContainerId, s.Resolution, s.TimeSeconds });
            e.HasIndex(s => new { s.Resolution, s.TimeSeconds });
            e.HasOne<ContainerEntity>().WithMany().HasForeignKey(s => s.ContainerId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}

/// <summary>The engine's per-connection pragmas (<see cref="EngineDatabase.Pragmas"/>) on a context's connection.</summary>
internal sealed class SqlitePragmas : DbConnectionInterceptor
{
    public static readonly SqlitePragmas Instance = new();

    private const string Pragmas = EngineDatabase.Pragmas;

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>For <c>dotnet ef</c>: a context over a throw-away path (migrations never touch it).</summary>
internal sealed class EngineDbContextDesignFactory : IDesignTimeDbContextFactory<EngineDbContext>
{
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Called by dotnet ef only, never in the engine.")]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Called by dotnet ef only, never in the engine.")]
    public EngineDbContext CreateDbContext(string[] args) =>
        new(EngineDbContext.CreateOptions(Path.Combine(Path.GetTempPath(), "dashboard-engine-design.db")));
}

public sealed class ContainerEntity
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Image { get; set; } = "";
    public string ImageId { get; set; } = "";
    public long CreatedNano { get; set; }

    /// <summary>The create body's container config, as parsed (immutable).</summary>
    public string ConfigJson { get; set; } = "";
    public string HostConfigJson { get; set; } = "";
    public string Path { get; set; } = "";
    public string ArgsJson { get; set; } = "[]";
    public string BundleDir { get; set; } = "";
    public string LogPath { get; set; } = "";
    public string Status { get; set; } = "created";
    public int Pid { get; set; }
    public int ShimPid { get; set; }
    public int ExitCode { get; set; }
    public bool OomKilled { get; set; }
    public string Error { get; set; } = "";
    public long? StartedAtNano { get; set; }
    public long? FinishedAtNano { get; set; }
    public int RestartCount { get; set; }
}

public sealed class EventEntity
{
    public long Seq { get; set; }
    public long TimeNano { get; set; }
    public string Type { get; set; } = "";
    public string Action { get; set; } = "";
    public string ActorId { get; set; } = "";
    public string AttributesJson { get; set; } = "{}";
}

public sealed class VolumeEntity
{
    public string Name { get; set; } = "";
    public string Driver { get; set; } = "local";
    public string Mountpoint { get; set; } = "";
    public long CreatedNano { get; set; }
    public string LabelsJson { get; set; } = "{}";
    public string OptionsJson { get; set; } = "{}";
}

public sealed class NetworkEntity
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Driver { get; set; } = "bridge";
    public string? Subnet { get; set; }
    public string? Gateway { get; set; }
    public long CreatedNano { get; set; }
    public string LabelsJson { get; set; } = "{}";
}

public sealed class ImageEntity
{
    public string Id { get; set; } = "";
    public long CreatedNano { get; set; }
    public long Size { get; set; }
    public string ConfigJson { get; set; } = "{}";
    public string ManifestDigest { get; set; } = "";
    public string ManifestMediaType { get; set; } = "";
    public string Os { get; set; } = "linux";
    public string Architecture { get; set; } = "";
}

public sealed class ImageReferenceEntity
{
    public string Reference { get; set; } = "";
    public string ImageId { get; set; } = "";
}

public sealed class ExecSessionEntity
{
    public string Id { get; set; } = "";
    public string ContainerId { get; set; } = "";
    public string ProcessJson { get; set; } = "{}";
    public bool Running { get; set; }
    public int? ExitCode { get; set; }
    public int Pid { get; set; }
    public long CreatedNano { get; set; }
}

public sealed class StatsSampleEntity
{
    public string ContainerId { get; set; } = "";
    public int Resolution { get; set; }
    public long TimeSeconds { get; set; }
    public long CpuUsageNanos { get; set; }
    public long CpuThrottledNanos { get; set; }
    public long MemoryUsage { get; set; }
    public long MemoryLimit { get; set; }
    public long MemoryCache { get; set; }
    public long Pids { get; set; }
    public long BlockRead { get; set; }
    public long BlockWrite { get; set; }
    public long NetRx { get; set; }
    public long NetTx { get; set; }
}
