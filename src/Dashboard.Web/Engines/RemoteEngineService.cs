using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Web.Engines;

/// <summary>One engine as the Engines page shows it; nothing secret in it.</summary>
public sealed record EngineRow(string Name, string Url, bool ReadOnly, string? ClientSubject, DateTimeOffset? ClientNotAfter);

/// <summary>The result of a connection test: the engine's version, or the error.</summary>
public sealed record EngineHealth(bool Ok, string? Version, string? Error);

public sealed class RemoteEngineException(string message) : Exception(message);

/// <summary>
/// Adds, lists, tests and removes remote engines (Admin only: a client certificate for an engine is root on
/// that host, security.md D1). The registry picks up every change at once; the private key is encrypted with
/// ASP.NET Core Data Protection before it reaches the database and is never shown again.
/// </summary>
public sealed class RemoteEngineService(
    WebDbContext db,
    IEngineRegistry engines,
    ActionAuthorizer authorizer,
    IAuditLog audit,
    IDataProtectionProvider protection,
    TimeProvider time)
{
    public const string KeyPurpose = "Dashboard.Web.RemoteEngines.ClientKey.v1";

    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(10);

    public async Task<IReadOnlyList<EngineRow>> ListAsync(ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        await authorizer.EnsureAsync(actor, DashboardAction.ManageEngines, "engines", cancellationToken);
        var remote = await db.Set<RemoteEngine>().AsNoTracking().ToDictionaryAsync(e => e.Name, StringComparer.Ordinal, cancellationToken);
        var rows = new List<EngineRow>();
        foreach (var name in engines.Names)
        {
            if (remote.TryGetValue(name, out var r) && !(engines as EngineRegistry)?.IsConfigured(name) == true)
            {
                var (subject, notAfter) = Describe(r.CertPem);
                rows.Add(new EngineRow(name, r.Url, false, subject, notAfter));
            }
            else
            {
                rows.Add(new EngineRow(name, ConfiguredUrl(name), true, null, null));
            }
        }

        return rows;
    }

    public async Task AddAsync(ClaimsPrincipal actor, string name, string url, string caPem, string certPem, string keyPem, CancellationToken cancellationToken)
    {
        var who = await authorizer.EnsureAsync(actor, DashboardAction.ManageEngines, $"engine {name}", cancellationToken);
        var registry = engines as EngineRegistry ?? throw new RemoteEngineException("engines cannot be changed in this installation");
        name = (name ?? "").Trim();
        url = (url ?? "").Trim();
        EngineEndpoint endpoint;
        try
        {
            endpoint = EngineEndpoint.Parse($"{name}={url}", 1);
        }
        catch (FormatException e)
        {
            throw new RemoteEngineException(e.Message);
        }

        if (endpoint.Uri.Scheme != "tcp" || endpoint.Uri.Port <= 0 || endpoint.Uri.AbsolutePath.Length > 1)
        {
            throw new RemoteEngineException($"engine {name}: the address must be tcp://HOST:PORT (the engine's --tls-listen)");
        }

        if (engines.Names.Contains(name, StringComparer.Ordinal) || await db.Set<RemoteEngine>().AnyAsync(e => e.Name == name, cancellationToken))
        {
            throw new RemoteEngineException($"engine {name}: the name is taken");
        }

        var tls = new EngineTlsMaterial(caPem ?? "", certPem ?? "", keyPem ?? "");
        DockerEngineClient client;
        try
        {
            client = new DockerEngineClient(endpoint, tls);
        }
        catch (FormatException e)
        {
            throw new RemoteEngineException($"engine {name}: {e.Message}");
        }

        var row = new RemoteEngine
        {
            Name = name,
            Url = endpoint.Uri.ToString().TrimEnd('/'),
            CaPem = caPem!,
            CertPem = certPem!,
            ProtectedKey = protection.CreateProtector(KeyPurpose).Protect(keyPem!),
            CreatedAt = time.GetUtcNow(),
            CreatedBy = who.UserName ?? "",
        };
        db.Add(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            client.Dispose();
            throw new RemoteEngineException($"engine {name}: the name is taken");
        }

        if (!registry.TryAdd(name, client))
        {
            client.Dispose();
        }

        await audit.WriteAsync(new AuditEntry(time.GetUtcNow(), who.UserName ?? "", "AddEngine", $"engine {name}", AuditOutcome.Succeeded, row.Url), CancellationToken.None);
    }

    /// <summary>Removes a remote engine and every per-engine role on it (a later engine of the same name starts clean).</summary>
    public async Task RemoveAsync(ClaimsPrincipal actor, string name, CancellationToken cancellationToken)
    {
        var who = await authorizer.EnsureAsync(actor, DashboardAction.ManageEngines, $"engine {name}", cancellationToken);
        var registry = engines as EngineRegistry;
        if (registry?.IsConfigured(name) != false)
        {
            throw new RemoteEngineException($"engine {name}: configured with --engine; remove it from the command line or config file");
        }

        var row = await db.Set<RemoteEngine>().FirstOrDefaultAsync(e => e.Name == name, cancellationToken)
            ?? throw new RemoteEngineException($"engine {name}: not found");
        db.Remove(row);
        db.EngineRoleAssignments.RemoveRange(await db.EngineRoleAssignments.Where(a => a.Engine == name).ToListAsync(cancellationToken));
        await db.SaveChangesAsync(cancellationToken);
        registry.Remove(name);
        await audit.WriteAsync(new AuditEntry(time.GetUtcNow(), who.UserName ?? "", "RemoveEngine", $"engine {name}", AuditOutcome.Succeeded, row.Url), CancellationToken.None);
    }

    /// <summary>Asks the engine for its version within <see cref="TestTimeout"/>.</summary>
    public async Task<EngineHealth> TestAsync(ClaimsPrincipal actor, string name, CancellationToken cancellationToken)
    {
        await authorizer.EnsureAsync(actor, DashboardAction.ManageEngines, $"engine {name}", cancellationToken);
        return await ProbeAsync(engines.Get(name), cancellationToken);
    }

    public static async Task<EngineHealth> ProbeAsync(IEngineClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TestTimeout);
        try
        {
            var info = await client.GetInfoAsync(timeout.Token);
            return new EngineHealth(true, info.ServerVersion, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new EngineHealth(false, null, $"no answer within {TestTimeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
        {
            // Whatever the transport throws (socket, TLS, HTTP, API errors) is the test's answer, not a page failure.
            return new EngineHealth(false, null, Innermost(e));
        }
    }

    /// <summary>Builds the clients of every stored remote engine; one that cannot be loaded (e.g. lost Data Protection keys) is skipped with a reason.</summary>
    public static async Task<IReadOnlyList<string>> LoadIntoAsync(WebDbContext db, EngineRegistry registry, IDataProtectionProvider protection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(protection);
        var problems = new List<string>();
        var protector = protection.CreateProtector(KeyPurpose);
        foreach (var row in await db.Set<RemoteEngine>().AsNoTracking().OrderBy(e => e.Id).ToListAsync(cancellationToken))
        {
            try
            {
                var client = new DockerEngineClient(EngineEndpoint.Parse($"{row.Name}={row.Url}", 1), new EngineTlsMaterial(row.CaPem, row.CertPem, protector.Unprotect(row.ProtectedKey)));
                if (!registry.TryAdd(row.Name, client))
                {
                    client.Dispose();
                    problems.Add($"engine {row.Name}: the name is also given with --engine; the configured one is used");
                }
            }
            catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException)
            {
                problems.Add($"engine {row.Name}: {e.Message}");
            }
        }

        return problems;
    }

    private string ConfiguredUrl(string name) =>
        engines.Get(name) is DockerEngineClient d ? d.EndpointText : "";

    private static (string? Subject, DateTimeOffset? NotAfter) Describe(string certPem)
    {
        try
        {
            using var cert = X509Certificate2.CreateFromPem(certPem);
            return (cert.Subject, new DateTimeOffset(cert.NotAfter.ToUniversalTime(), TimeSpan.Zero));
        }
        catch (CryptographicException)
        {
            return (null, null);
        }
    }

    private static string Innermost(Exception e)
    {
        var messages = new List<string>();
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (!string.IsNullOrWhiteSpace(x.Message) && !messages.Contains(x.Message, StringComparer.Ordinal))
            {
                messages.Add(x.Message.Trim());
            }
        }

        return string.Join(": ", messages.Take(3));
    }
}

/// <summary>Loads stored remote engines into the registry after the database is migrated (hosted services start in order).</summary>
internal sealed class RemoteEngineLoader(IServiceScopeFactory scopes, ILogger<RemoteEngineLoader> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        if (scope.ServiceProvider.GetRequiredService<IEngineRegistry>() is not EngineRegistry registry)
        {
            return;
        }

        var problems = await RemoteEngineService.LoadIntoAsync(
            scope.ServiceProvider.GetRequiredService<WebDbContext>(), registry, scope.ServiceProvider.GetRequiredService<IDataProtectionProvider>(), cancellationToken);
        foreach (var problem in problems)
        {
            logger.LogWarning("remote engine not loaded: {Problem}", problem);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
