namespace Dashboard.Images.Registry;

/// <summary>Timeouts, retries and concurrency of registry clients; tests shorten them.</summary>
public sealed record RegistryClientOptions
{
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Until the response headers arrive.</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest wait for the next bytes of a body, so a stalled stream does not pin a worker (security.md B7 (h), C5 slowloris).</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Attempts per request (and consecutive failed resumes per blob) on 5xx, 429, timeouts and resets.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>First backoff; doubled per attempt, with jitter.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Largest backoff, also the cap on a registry's <c>Retry-After</c>.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(10);

    public int MaxConcurrentDownloads { get; init; } = 3;

    public int MaxConcurrentUploads { get; init; } = 3;

    /// <summary>Blobs larger than this are uploaded in PATCH chunks of this size; 0 uploads every blob in one PUT.</summary>
    public long UploadChunkSize { get; init; }

    /// <summary>containerd's resolver stops after 10 redirects (security.md C3).</summary>
    public int MaxRedirects { get; init; } = 10;

    /// <summary>Hosts (besides the registry's own) a token realm may be on to receive Basic credentials (security.md C1).</summary>
    public IReadOnlyCollection<string> TrustedTokenHosts { get; init; } = [];

    /// <summary>Loopback and private addresses are refused as token realms and redirect targets unless the registry itself is on one or this is set (security.md C1, C3).</summary>
    public bool AllowPrivateAddresses { get; init; }

    /// <summary>Credentials for this client only (a request's own, e.g. Docker's <c>X-Registry-Auth</c>), used instead of the stored ones and never persisted.</summary>
    public RegistryCredentials? Credentials { get; init; }
}

/// <summary>Body size limits (containers/image iolimits, containerd; security.md C5).</summary>
public static class RegistryLimits
{
    public const int MaxManifestSize = 4 << 20;
    public const int MaxConfigSize = 8 << 20;
    public const int MaxTokenSize = 1 << 20;
    public const int MaxErrorBodySize = 64 << 10;
    public const int MaxTagPages = 1000;
    public const int MaxTags = 100_000;
}
