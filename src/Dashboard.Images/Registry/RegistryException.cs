using System.Net;

namespace Dashboard.Images.Registry;

/// <summary>What went wrong talking to a registry; the engine maps each kind once (STYLE.md errors rule 3).</summary>
public enum RegistryErrorKind
{
    /// <summary>Repository, tag, manifest or blob unknown (HTTP 404, <c>*_UNKNOWN</c> codes).</summary>
    NotFound,

    /// <summary>No or wrong credentials (HTTP 401 after authenticating).</summary>
    Unauthorized,

    /// <summary>Authenticated but not allowed (HTTP 403, <c>DENIED</c>), or a request our policy refuses (credentials to another host, a downgrade).</summary>
    Denied,

    /// <summary>A manifest, config, token or error body over its limit (security.md C5).</summary>
    TooLarge,

    /// <summary>Content that does not match the digest or size it was fetched by (security.md B8).</summary>
    DigestMismatch,

    /// <summary>Connection failures, timeouts and 5xx responses that outlived the retries.</summary>
    Network,

    /// <summary>A response that breaks the distribution spec (bad headers, bad JSON, unexpected status).</summary>
    Protocol,
}

/// <summary>One entry of a registry's <c>{"errors":[{"code","message"}]}</c> body (distribution spec "Error Codes").</summary>
public sealed record RegistryError(string Code, string Message);

/// <summary>A registry operation that failed; the message names the operation and carries the registry's own error codes.</summary>
public sealed class RegistryException : Exception
{
    public RegistryException(RegistryErrorKind kind, string message, HttpStatusCode? status = null, IReadOnlyList<RegistryError>? errors = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        StatusCode = status;
        Errors = errors ?? [];
    }

    public RegistryErrorKind Kind { get; }

    public HttpStatusCode? StatusCode { get; }

    public IReadOnlyList<RegistryError> Errors { get; }

    /// <summary>The same failure with the operation named in front (<c>pull localhost:5000/x:1: …</c>).</summary>
    public RegistryException WithContext(string context) => new(Kind, $"{context}: {Message}", StatusCode, Errors, this);
}
