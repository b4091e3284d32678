using System.ComponentModel.DataAnnotations;
using System.ComponentModel.DataAnnotations.Schema;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Web.Identity;

/// <summary>
/// A personal API token. Only the SHA-256 of its secret part is stored: the secret is 256 random bits, so a slow
/// password hash adds nothing, and a leaked database does not yield usable tokens.
/// </summary>
[Table("ApiTokens")]
[Index(nameof(UserId))]
public sealed class ApiToken
{
    [Key]
    [MaxLength(32)]
    public string Id { get; set; } = "";

    [MaxLength(450)]
    public string UserId { get; set; } = "";

    [MaxLength(100)]
    public string Name { get; set; } = "";

    [MaxLength(64)]
    public string SecretHash { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    /// <summary>Deleting a user deletes their tokens (cascade).</summary>
    [ForeignKey(nameof(UserId))]
    public WebUser? User { get; set; }
}

/// <summary>
/// A role a user holds on one engine only; it replaces the user's global role there ("None" removes all access to
/// that engine). Global Admins are Admin everywhere.
/// </summary>
[Table("EngineRoleAssignments")]
[PrimaryKey(nameof(UserId), nameof(Engine))]
public sealed class EngineRoleAssignment
{
    [MaxLength(450)]
    public string UserId { get; set; } = "";

    [MaxLength(64)]
    public string Engine { get; set; } = "";

    [MaxLength(32)]
    public string Role { get; set; } = "";

    [ForeignKey(nameof(UserId))]
    public WebUser? User { get; set; }
}
