namespace Dashboard.Images.Registry;

/// <summary><c>docker login</c>: proving credentials to a registry without touching a repository.</summary>
public sealed partial class RegistryClient
{
    /// <summary>
    /// Checks the client's credentials the way Docker's daemon does: an authenticated <c>GET /v2/</c>, where a
    /// Bearer challenge means a token request without a scope (the token endpoint judges the credentials) and a
    /// Basic one sends them to the registry itself. A registry that asks for no authentication accepts any login.
    /// Throws <see cref="RegistryException"/> (<see cref="RegistryErrorKind.Unauthorized"/> for rejected credentials).
    /// </summary>
    public async Task LoginAsync(CancellationToken cancellationToken = default)
    {
        const string what = "login";
        if (_settings.Credentials is null)
        {
            throw new RegistryException(RegistryErrorKind.Unauthorized, $"{what}: no username given");
        }

        using var response = await SendAsync(() => Request(HttpMethod.Get, "/v2/"), [], $"{what} to {Registry}", cancellationToken);
        await EnsureSuccessAsync(response, $"{what} to {Registry}", cancellationToken);
    }
}
