using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Web.Identity;

/// <summary>What the owner sees of a token after creation: never the secret.</summary>
public sealed record ApiTokenInfo(string Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt);

/// <summary>A newly created token: <see cref="Token"/> is shown once and cannot be recovered later.</summary>
public sealed record CreatedApiToken(ApiTokenInfo Info, string Token);

/// <summary>A token request the service refused (bad name or expiry, unknown token).</summary>
public sealed class ApiTokenException(string message, bool notFound = false) : Exception(message)
{
    public bool NotFound { get; } = notFound;
}

/// <summary>
/// Personal API tokens for scripts: <c>dsh_ID_SECRET</c>. A token authenticates as its owner; what it may do is
/// read from the owner's current roles on each request, so demoting the owner demotes the token at once.
/// </summary>
public sealed class ApiTokenService(WebDbContext db, UserManager<WebUser> users, IAuditLog audit, TimeProvider time)
{
    public const string Prefix = "dsh_";
    public const int MaxTokensPerUser = 50;

    /// <summary>Marks a principal that came from a token rather than a sign-in (tokens may not mint tokens).</summary>
    public const string TokenIdClaim = "dashboard:api-token";

    public async Task<IReadOnlyList<ApiTokenInfo>> ListAsync(ClaimsPrincipal owner, CancellationToken cancellationToken)
    {
        var user = await RequireUserAsync(owner);
        var rows = await db.ApiTokens.AsNoTracking().Where(t => t.UserId == user.Id).ToListAsync(cancellationToken);
        return rows.OrderBy(t => t.CreatedAt).Select(ToInfo).ToList();
    }

    public async Task<CreatedApiToken> CreateAsync(ClaimsPrincipal owner, string? name, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        var user = await RequireUserAsync(owner);
        var label = (name ?? "").Trim();
        if (label.Length is 0 or > 100 || label.Any(char.IsControl))
        {
            throw new ApiTokenException("token name must be 1-100 printable characters");
        }

        var now = time.GetUtcNow();
        if (expiresAt is { } expiry && expiry <= now)
        {
            throw new ApiTokenException("token expiry must be in the future");
        }

        if (await db.ApiTokens.CountAsync(t => t.UserId == user.Id, cancellationToken) >= MaxTokensPerUser)
        {
            throw new ApiTokenException($"at most {MaxTokensPerUser} tokens per user");
        }

        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var row = new ApiToken { Id = id, UserId = user.Id, Name = label, SecretHash = Hash(secret), CreatedAt = now, ExpiresAt = expiresAt?.ToUniversalTime() };
        db.ApiTokens.Add(row);
        await db.SaveChangesAsync(cancellationToken);
        await AuditAsync(user, "CreateApiToken", row, AuditOutcome.Succeeded);
        return new CreatedApiToken(ToInfo(row), $"{Prefix}{id}_{secret}");
    }

    public async Task RevokeAsync(ClaimsPrincipal owner, string id, CancellationToken cancellationToken)
    {
        var user = await RequireUserAsync(owner);
        var row = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == id && t.UserId == user.Id, cancellationToken)
            ?? throw new ApiTokenException($"token {id}: not found", notFound: true);
        db.ApiTokens.Remove(row);
        await db.SaveChangesAsync(cancellationToken);
        await AuditAsync(user, "RevokeApiToken", row, AuditOutcome.Succeeded);
    }

    /// <summary>The owner of a valid, unexpired token, or null. Comparison of the secret is constant-time.</summary>
    public async Task<(WebUser User, ApiToken Token)?> ValidateAsync(string presented, CancellationToken cancellationToken)
    {
        if (!TryParseToken(presented, out var id, out var secret))
        {
            return null;
        }

        var row = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == id, cancellationToken);
        var expected = row?.SecretHash ?? new string('0', 64);
        var matches = CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(Hash(secret)));
        var now = time.GetUtcNow();
        if (row is null || !matches || row.ExpiresAt is { } expiry && expiry <= now)
        {
            return null;
        }

        var user = await users.FindByIdAsync(row.UserId);
        if (user is null)
        {
            return null;
        }

        // Coarse last-use stamp: at most one write a minute per token.
        if (row.LastUsedAt is not { } last || now - last > TimeSpan.FromMinutes(1))
        {
            row.LastUsedAt = now;
            await db.SaveChangesAsync(cancellationToken);
        }

        return (user, row);
    }

    public static bool TryParseToken(string? presented, out string id, out string secret)
    {
        id = secret = "";
        if (presented is null || !presented.StartsWith(Prefix, StringComparison.Ordinal) || presented.Length > 200)
        {
            return false;
        }

        var rest = presented.AsSpan(Prefix.Length);
        var sep = rest.IndexOf('_');
        if (sep != 24)
        {
            return false;
        }

        id = rest[..sep].ToString();
        secret = rest[(sep + 1)..].ToString();
        return id.All(char.IsAsciiHexDigitLower) && secret.Length == 43 && secret.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
    }

    private static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static ApiTokenInfo ToInfo(ApiToken t) => new(t.Id, t.Name, t.CreatedAt, t.ExpiresAt, t.LastUsedAt);

    private async Task<WebUser> RequireUserAsync(ClaimsPrincipal owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (owner.HasClaim(c => c.Type == TokenIdClaim))
        {
            throw new DashboardForbiddenException("manage API tokens: a token cannot manage tokens; sign in");
        }

        return await users.GetUserAsync(owner) ?? throw new DashboardForbiddenException("manage API tokens: permission denied");
    }

    private Task AuditAsync(WebUser user, string action, ApiToken row, AuditOutcome outcome) =>
        audit.WriteAsync(new AuditEntry(time.GetUtcNow(), user.UserName ?? "", action, $"api token {row.Id} ({row.Name})", outcome, null), CancellationToken.None);
}
