using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dashboard.Web.Engines;

/// <summary>A remote engine an Admin added in the UI. The client key is stored only as Data Protection ciphertext.</summary>
public sealed class RemoteEngine
{
    public int Id { get; set; }

    [MaxLength(64)]
    public string Name { get; set; } = "";

    [MaxLength(512)]
    public string Url { get; set; } = "";

    [MaxLength(EngineTlsMaterial.MaxPemLength)]
    public string CaPem { get; set; } = "";

    [MaxLength(EngineTlsMaterial.MaxPemLength)]
    public string CertPem { get; set; } = "";

    /// <summary><see cref="RemoteEngineService.KeyPurpose"/>-protected PEM private key; never sent to a browser.</summary>
    [MaxLength(4 * EngineTlsMaterial.MaxPemLength)]
    public string ProtectedKey { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    [MaxLength(256)]
    public string CreatedBy { get; set; } = "";
}

internal sealed class RemoteEngineConfiguration : IEntityTypeConfiguration<RemoteEngine>
{
    public void Configure(EntityTypeBuilder<RemoteEngine> builder)
    {
        builder.ToTable("remote_engines");
        builder.HasIndex(e => e.Name).IsUnique();
    }
}
