using System.Collections.Concurrent;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Tests.Fakes;

public sealed partial class FakeEngineClient
{
    /// <summary>The registry settings as the engine keeps them, secrets included, so tests can see what was sent.</summary>
    public ConcurrentDictionary<string, (string? Username, string? Password, bool Insecure)> Registries { get; } = new(StringComparer.Ordinal);

    public Task<IReadOnlyList<RegistrySettings>> ListRegistriesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<RegistrySettings>>(Registries
            .OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => new RegistrySettings(r.Key, r.Value.Username, !string.IsNullOrEmpty(r.Value.Password), r.Value.Insecure))
            .ToList());

    /// <summary>Behaves like the engine: a username needs a password; no username keeps the stored credentials.</summary>
    public async Task SetRegistryAsync(string registry, string? username, string? password, bool insecure, CancellationToken cancellationToken)
    {
        await Record("set-registry", registry);
        if (!string.IsNullOrEmpty(username) && string.IsNullOrEmpty(password))
        {
            throw new EngineException(EngineErrorKind.InvalidRequest, $"save registry {registry}: a username needs a password");
        }

        Registries.AddOrUpdate(
            registry,
            _ => (string.IsNullOrEmpty(username) ? null : username, string.IsNullOrEmpty(username) ? null : password, insecure),
            (_, old) => string.IsNullOrEmpty(username) ? old with { Insecure = insecure } : (username, password, insecure));
    }

    public async Task RemoveRegistryAsync(string registry, CancellationToken cancellationToken)
    {
        await Record("remove-registry", registry);
        if (!Registries.TryRemove(registry, out _))
        {
            throw new EngineException(EngineErrorKind.NotFound, $"remove registry {registry}: no settings for this registry");
        }
    }
}
