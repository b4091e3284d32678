using Dashboard.Images.Import;
using Dashboard.Images.Registry;

namespace Dashboard.Engine.Images;

/// <summary><c>POST /auth</c>: checks credentials against a registry; like the credentials of <c>X-Registry-Auth</c>, they are never stored.</summary>
public sealed partial class ImageService
{
    /// <summary>Docker Hub's legacy login address, which the docker CLI sends when no registry is named.</summary>
    private const string DockerHubLoginAddress = "https://index.docker.io/v1/";

    public async Task LoginAsync(string? serverAddress, RegistryCredentials credentials, CancellationToken cancellationToken)
    {
        var registry = LoginRegistry(serverAddress);
        try
        {
            using var client = await RegistryClient.CreateAsync(registry, Registries, ClientOptions(credentials), cancellationToken);
            await client.LoginAsync(cancellationToken);
        }
        catch (RegistryException e)
        {
            throw new EngineException(RegistryKind(e.Kind), e.Message, e);
        }

        _log.LogInformation("login to {Registry} as {User} succeeded", registry, credentials.Username);
    }

    /// <summary>The registry a login's <c>serveraddress</c> names: a host[:port], optionally as a URL (<c>https://host/v2/</c>).</summary>
    internal static string LoginRegistry(string? serverAddress)
    {
        var address = serverAddress?.Trim() ?? "";
        if (address.Length == 0 || address == DockerHubLoginAddress)
        {
            return ImageReference.DefaultDomain;
        }

        foreach (var scheme in (string[])["https://", "http://"])
        {
            if (address.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            {
                address = address[scheme.Length..];
                break;
            }
        }

        var host = address.Split('/', 2)[0].ToLowerInvariant();
        if (host.Length is 0 or > 255 || host.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '@' or '?' or '#' or '\\'))
        {
            throw new EngineException(ErrorKind.InvalidArgument, "invalid registry address in serveraddress");
        }

        return host is "index.docker.io" or RegistryReference.DockerHubEndpoint ? ImageReference.DefaultDomain : host;
    }
}
