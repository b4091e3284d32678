namespace Dashboard.Web.Engines;

/// <summary>Registry credentials and the insecure opt-in kept by our engine (issue 5 §9); secrets only go in, never out.</summary>
public partial interface IEngineClient
{
    /// <summary>Every registry the engine has settings for, without secrets (<c>GET /dashboard/registries</c>).</summary>
    Task<IReadOnlyList<RegistrySettings>> ListRegistriesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Saves credentials and the insecure flag for <paramref name="registry"/> (<c>PUT /dashboard/registries/{registry}</c>).
    /// A null or empty <paramref name="username"/> keeps the stored credentials and only sets <paramref name="insecure"/>.
    /// </summary>
    Task SetRegistryAsync(string registry, string? username, string? password, bool insecure, CancellationToken cancellationToken);

    /// <summary>Forgets credentials and the insecure flag (<c>DELETE /dashboard/registries/{registry}</c>); NotFound when unknown.</summary>
    Task RemoveRegistryAsync(string registry, CancellationToken cancellationToken);
}

public sealed record RegistrySettings(string Registry, string? Username, bool HasSecret, bool Insecure);
