using System.Security.Cryptography;
using System.Text;
using Dashboard.Web.Hosting;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Identity;

namespace Dashboard.Web.Identity;

public enum BootstrapResult
{
    Created,
    AlreadyDone,
    Unavailable,
    WrongSecret,
    InvalidAccount,
}

/// <summary>
/// First run: the admin account is created only by someone who presents the one-time secret the install wrote
/// on the host, never by the first visitor (CVE-2018-19367). The secret file is deleted once used.
/// </summary>
/// <summary>Whether the first admin still has to be created (what the sign-in and setup pages ask).</summary>
public interface IBootstrapStatus
{
    Task<bool> IsNeededAsync();
}

public sealed class BootstrapService(
    UserManager<WebUser> users,
    IOptions<DashboardOptions> options,
    ILogger<BootstrapService> logger) : IBootstrapStatus
{
    public const int MinimumSecretLength = 16;

    private static readonly SemaphoreSlim s_gate = new(1, 1);

    public async Task<bool> IsNeededAsync() => (await users.GetUsersInRoleAsync(Roles.Admin)).Count == 0;

    public async Task<(BootstrapResult Result, IReadOnlyList<string> Errors)> CreateAdminAsync(string secret, string userName, string password)
    {
        await s_gate.WaitAsync();
        try
        {
            if (!await IsNeededAsync())
            {
                return (BootstrapResult.AlreadyDone, []);
            }

            var expected = ReadSecret();
            if (expected is null)
            {
                return (BootstrapResult.Unavailable, []);
            }

            var given = Encoding.UTF8.GetBytes((secret ?? "").Trim());
            if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(given), SHA256.HashData(expected)))
            {
                logger.LogWarning("bootstrap: wrong secret presented");
                return (BootstrapResult.WrongSecret, []);
            }

            var user = new WebUser { UserName = userName?.Trim() ?? "" };
            var created = await users.CreateAsync(user, password ?? "");
            if (!created.Succeeded)
            {
                return (BootstrapResult.InvalidAccount, created.Errors.Select(e => e.Description).ToList());
            }

            var role = await users.AddToRoleAsync(user, Roles.Admin);
            if (!role.Succeeded)
            {
                await users.DeleteAsync(user);
                return (BootstrapResult.InvalidAccount, role.Errors.Select(e => e.Description).ToList());
            }

            ConsumeSecret();
            logger.LogInformation("bootstrap: admin account {User} created; bootstrap secret consumed", user.UserName);
            return (BootstrapResult.Created, []);
        }
        finally
        {
            s_gate.Release();
        }
    }

    private byte[]? ReadSecret()
    {
        var path = options.Value.BootstrapSecretFile;
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            return null;
        }

        var text = File.ReadAllText(path).Trim();
        if (text.Length < MinimumSecretLength)
        {
            logger.LogWarning("bootstrap: secret in {Path} is shorter than {Min} characters; refusing it", path, MinimumSecretLength);
            return null;
        }

        return Encoding.UTF8.GetBytes(text);
    }

    private void ConsumeSecret()
    {
        var path = options.Value.BootstrapSecretFile!;
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The admin exists now, so IsNeededAsync is false and the secret can no longer be used either way.
            logger.LogWarning("bootstrap: could not delete {Path}: {Error}", path, e.Message);
        }
    }
}
