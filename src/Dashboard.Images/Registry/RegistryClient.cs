using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Oci;
using Dashboard.Oci.Image;

namespace Dashboard.Images.Registry;

/// <summary>
/// A client of one registry (OCI distribution spec / Docker Registry HTTP API v2). It learns the
/// registry's scheme and auth challenge from <c>GET /v2/</c>, authenticates anonymously, with Basic
/// credentials or with Bearer tokens from the challenge's realm, follows redirects itself (never
/// carrying credentials to another host or down to plain HTTP, security.md C3), retries 5xx, 429,
/// timeouts and resets with exponential backoff, and bounds every body it reads into memory
/// (security.md C5). Repository names, tags and digests only reach URLs after strict parsing (C4).
/// </summary>
public sealed partial class RegistryClient : IDisposable
{
    private static readonly string[] s_manifestAccept = [MediaTypes.OciIndex, MediaTypes.OciManifest, MediaTypes.DockerManifestList, MediaTypes.DockerManifest];

    private readonly RegistryHostSettings _settings;
    private readonly RegistryClientOptions _options;
    private readonly HttpMessageInvoker _http;
    private readonly SemaphoreSlim _authLock = new(1, 1);
    private readonly Dictionary<string, (string Token, DateTimeOffset Expires)> _tokens = new(StringComparer.Ordinal);
    private Uri? _baseUri;
    private AuthChallenge? _challenge;

    internal RegistryClient(RegistryHostSettings settings, RegistryClientOptions? options = null)
    {
        _settings = settings;
        _options = options ?? new RegistryClientOptions();
        Registry = settings.Registry;
        Endpoint = Registry == Import.ImageReference.DefaultDomain ? RegistryReference.DockerHubEndpoint : Registry;
        var endpointHost = new Uri("https://" + Endpoint).Host;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = _options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxResponseHeadersLength = 64,
            SslOptions = new SslClientAuthenticationOptions
            {
                // An insecure registry skips certificate checks for its own host only, never for redirect targets.
                RemoteCertificateValidationCallback = (sender, _, _, errors) =>
                    errors == SslPolicyErrors.None || (settings.Insecure && sender is SslStream s && string.Equals(s.TargetHostName, endpointHost, StringComparison.OrdinalIgnoreCase)),
            },
        };
        _http = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    /// <summary>The registry as named in references (<c>docker.io</c>, <c>localhost:5000</c>).</summary>
    public string Registry { get; }

    /// <summary>Host and port of the API.</summary>
    public string Endpoint { get; }

    public bool Insecure => _settings.Insecure;

    /// <summary>A client for <paramref name="registry"/> with its stored settings (credentials, insecure opt-in).</summary>
    public static async Task<RegistryClient> CreateAsync(string registry, RegistrySettingsStore? settings = null, RegistryClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        var hostSettings = settings is null ? RegistryHostSettings.Default(RegistrySettingsStore.NormalizeRegistry(registry)) : await settings.GetAsync(registry, cancellationToken);
        if (options?.Credentials is { } credentials)
        {
            hostSettings = hostSettings with { Credentials = credentials };
        }

        return new RegistryClient(hostSettings, options);
    }

    public void Dispose()
    {
        _http.Dispose();
        _authLock.Dispose();
    }

    /// <summary>Fetches a manifest or index by tag or digest, verified against the digest it was asked by and the one the registry states.</summary>
    public async Task<RegistryManifest> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        var what = $"manifest {repository}:{reference}";
        Digest? byDigest = Digest.TryParse(reference, out var d) ? d : null;
        if (byDigest is null && !IsValidTag(reference))
        {
            throw new RegistryException(RegistryErrorKind.Protocol, $"{what}: invalid tag");
        }

        using var response = await SendAsync(() => Request(HttpMethod.Get, $"/v2/{repository}/manifests/{reference}", s_manifestAccept), Pull(repository), what, cancellationToken);
        await EnsureSuccessAsync(response, what, cancellationToken);
        var bytes = await ReadLimitedAsync(response.Content, RegistryLimits.MaxManifestSize, what, cancellationToken);
        var algorithm = byDigest?.Algorithm ?? Digest.Sha256;
        var digest = Digest.Compute(bytes, algorithm);
        if (byDigest is { } wanted && digest != wanted)
        {
            throw new RegistryException(RegistryErrorKind.DigestMismatch, $"{what}: digest mismatch: content is {digest}");
        }

        // distribution spec "Content Digests": the header must not be trusted over the local digest, but a disagreement is an error.
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var stated) && Digest.TryParse(stated.FirstOrDefault(), out var header)
            && header.Algorithm == algorithm && header != digest)
        {
            throw new RegistryException(RegistryErrorKind.DigestMismatch, $"{what}: digest mismatch: registry says {header}, content is {digest}");
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        return new RegistryManifest(digest, mediaType, bytes);
    }

    /// <summary>Whether the registry has a blob in a repository (HEAD); a stated size that differs counts as absent.</summary>
    public async Task<bool> BlobExistsAsync(string repository, Descriptor blob, CancellationToken cancellationToken = default)
    {
        var what = $"blob {blob.Digest}";
        using var response = await SendAsync(() => Request(HttpMethod.Head, $"/v2/{repository}/blobs/{blob.Digest}"), Pull(repository), what, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureSuccessAsync(response, what, cancellationToken);
        return response.Content.Headers.ContentLength is not { } length || length == blob.Size;
    }

    /// <summary>Reads a small blob (a config) whole, bounded and verified.</summary>
    public async Task<byte[]> GetBlobBytesAsync(string repository, Descriptor blob, long maxSize, CancellationToken cancellationToken = default)
    {
        var what = $"blob {blob.Digest}";
        if (blob.Size > maxSize)
        {
            throw new RegistryException(RegistryErrorKind.TooLarge, $"{what}: {blob.Size} bytes is more than the limit of {maxSize}");
        }

        using var response = await SendAsync(() => Request(HttpMethod.Get, $"/v2/{repository}/blobs/{blob.Digest}"), Pull(repository), what, cancellationToken);
        await EnsureSuccessAsync(response, what, cancellationToken);
        var bytes = await ReadLimitedAsync(response.Content, maxSize, what, cancellationToken);
        if (bytes.Length != blob.Size)
        {
            throw new RegistryException(RegistryErrorKind.DigestMismatch, $"{what}: size mismatch: got {bytes.Length} bytes, want {blob.Size}");
        }

        var digest = Digest.Compute(bytes, blob.Digest.Algorithm);
        if (digest != blob.Digest)
        {
            throw new RegistryException(RegistryErrorKind.DigestMismatch, $"{what}: digest mismatch: content is {digest}");
        }

        return bytes;
    }

    /// <summary>
    /// Opens a blob for streaming. The stream resumes with <c>Range</c> after a broken connection
    /// and reports bytes read; the caller verifies digest and size (the content store does).
    /// </summary>
    public Stream OpenBlob(string repository, Descriptor blob, IProgress<long>? bytesRead = null) =>
        new ResumableBlobStream(this, repository, blob, bytesRead);

    /// <summary>All tags of a repository, following <c>Link: &lt;…&gt;; rel="next"</c> pages; every tag is validated (security.md C4).</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, int pageSize = 1000, CancellationToken cancellationToken = default)
    {
        var what = $"tags of {repository}";
        var tags = new List<string>();
        var path = $"/v2/{repository}/tags/list?n={pageSize}";
        for (var page = 0; path is not null; page++)
        {
            if (page >= RegistryLimits.MaxTagPages)
            {
                throw new RegistryException(RegistryErrorKind.TooLarge, $"{what}: more than {RegistryLimits.MaxTagPages} pages");
            }

            var current = path;
            using var response = await SendAsync(() => Request(HttpMethod.Get, current), Pull(repository), what, cancellationToken);
            await EnsureSuccessAsync(response, what, cancellationToken);
            var bytes = await ReadLimitedAsync(response.Content, RegistryLimits.MaxManifestSize, what, cancellationToken);
            TagList list;
            try
            {
                list = JsonSerializer.Deserialize(bytes, RegistryJsonContext.Default.TagList) ?? new TagList();
            }
            catch (JsonException e)
            {
                throw new RegistryException(RegistryErrorKind.Protocol, $"{what}: invalid tag list: {e.Message}", inner: e);
            }

            foreach (var tag in list.Tags ?? [])
            {
                if (!IsValidTag(tag))
                {
                    throw new RegistryException(RegistryErrorKind.Protocol, $"{what}: registry returned an invalid tag \"{Sanitize(tag, 80)}\"");
                }

                tags.Add(tag);
            }

            if (tags.Count > RegistryLimits.MaxTags)
            {
                throw new RegistryException(RegistryErrorKind.TooLarge, $"{what}: more than {RegistryLimits.MaxTags} tags");
            }

            path = NextLink(response, what);
        }

        return tags;
    }

    /// <summary>Uploads a manifest under a tag or its digest; returns the digest the registry confirmed.</summary>
    public async Task<Digest> PutManifestAsync(string repository, string reference, string mediaType, byte[] manifest, CancellationToken cancellationToken = default)
    {
        var what = $"put manifest {repository}:{reference}";
        if (!Digest.TryParse(reference, out _) && !IsValidTag(reference))
        {
            throw new RegistryException(RegistryErrorKind.Protocol, $"{what}: invalid tag");
        }

        var digest = Digest.Compute(manifest);
        using var response = await SendAsync(() =>
        {
            var request = Request(HttpMethod.Put, $"/v2/{repository}/manifests/{reference}");
            request.Content = new ByteArrayContent(manifest);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return request;
        }, Push(repository), what, cancellationToken);
        await EnsureSuccessAsync(response, what, cancellationToken);
        CheckStatedDigest(response, digest, what);
        return digest;
    }

    internal string[] Pull(string repository) => [$"repository:{repository}:pull"];

    internal string[] Push(string repository) => [$"repository:{repository}:pull,push"];

    internal static bool IsValidTag(string tag) => TagPattern().IsMatch(tag);

    internal HttpRequestMessage Request(HttpMethod method, string pathAndQuery, IEnumerable<string>? accept = null)
    {
        var request = new HttpRequestMessage(method, new Uri(_baseUri!, pathAndQuery));
        foreach (var type in accept ?? [])
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        return request;
    }

    internal HttpRequestMessage Request(HttpMethod method, Uri absolute) => new(method, absolute);

    /// <summary>
    /// Sends a request with auth, manual redirects and retries. <paramref name="create"/> builds a
    /// fresh request per attempt. A 401 re-authenticates once with the challenge it carries.
    /// </summary>
    internal async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, string[] scopes, string what, CancellationToken cancellationToken, bool retry = true)
    {
        await EnsureBaseAsync(what, cancellationToken);
        var reauthenticated = false;
        for (var attempt = 1; ; attempt++)
        {
            HttpResponseMessage response;
            try
            {
                using var request = create();
                await AuthorizeAsync(request, scopes, what, cancellationToken);
                response = await SendFollowingRedirectsAsync(request, what, cancellationToken);
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                if (!retry || attempt >= _options.MaxAttempts)
                {
                    throw new RegistryException(RegistryErrorKind.Network, $"{what}: {Describe(e)}", inner: e);
                }

                await Task.Delay(Backoff(attempt, null), cancellationToken);
                continue;
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized && !reauthenticated && AuthChallenge.From(response.Headers.WwwAuthenticate) is { } challenge)
            {
                reauthenticated = true;
                response.Dispose();
                await _authLock.WaitAsync(cancellationToken);
                try
                {
                    _challenge = challenge;
                    _tokens.Remove(ScopeKey(scopes));
                }
                finally
                {
                    _authLock.Release();
                }

                attempt--;
                continue;
            }

            if (retry && attempt < _options.MaxAttempts && IsRetriable(response.StatusCode))
            {
                var delay = Backoff(attempt, response.Headers.RetryAfter);
                response.Dispose();
                await Task.Delay(delay, cancellationToken);
                continue;
            }

            return response;
        }
    }

    internal async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var errors = new List<RegistryError>();
        if (response.RequestMessage?.Method != HttpMethod.Head)
        {
            try
            {
                var body = await ReadPrefixAsync(response.Content, RegistryLimits.MaxErrorBodySize, cancellationToken);
                var parsed = JsonSerializer.Deserialize(body, RegistryJsonContext.Default.ErrorBody);
                foreach (var error in parsed?.Errors ?? [])
                {
                    errors.Add(new RegistryError(Sanitize(error.Code ?? string.Empty, 64), Sanitize(error.Message ?? string.Empty, 256)));
                }
            }
            catch (Exception e) when (e is JsonException or IOException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The status alone is the error when the body is not the spec's error JSON.
            }
        }

        var status = response.StatusCode;
        var kind = status switch
        {
            HttpStatusCode.NotFound => RegistryErrorKind.NotFound,
            HttpStatusCode.Unauthorized => RegistryErrorKind.Unauthorized,
            HttpStatusCode.Forbidden => RegistryErrorKind.Denied,
            HttpStatusCode.RequestEntityTooLarge => RegistryErrorKind.TooLarge,
            >= HttpStatusCode.InternalServerError or HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout => RegistryErrorKind.Network,
            _ => errors.Any(e => e.Code == "DENIED") ? RegistryErrorKind.Denied
                : errors.Any(e => e.Code == "UNAUTHORIZED") ? RegistryErrorKind.Unauthorized
                : errors.Any(e => e.Code.EndsWith("_UNKNOWN", StringComparison.Ordinal)) ? RegistryErrorKind.NotFound
                : errors.Any(e => e.Code is "DIGEST_INVALID" or "SIZE_INVALID") ? RegistryErrorKind.DigestMismatch
                : RegistryErrorKind.Protocol,
        };
        var detail = errors.Count == 0 ? string.Empty : ": " + string.Join("; ", errors.Select(e => $"{e.Code}: {e.Message}"));
        throw new RegistryException(kind, $"{what}: {(int)status} {Sanitize(response.ReasonPhrase ?? status.ToString(), 64).ToLowerInvariant()}{detail}", status, errors);
    }

    internal static void CheckStatedDigest(HttpResponseMessage response, Digest expected, string what)
    {
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var stated) && Digest.TryParse(stated.FirstOrDefault(), out var header)
            && header.Algorithm == expected.Algorithm && header != expected)
        {
            throw new RegistryException(RegistryErrorKind.DigestMismatch, $"{what}: registry stored {header}, we sent {expected}");
        }
    }

    /// <summary>Reads a body into memory; more than <paramref name="limit"/> bytes is <see cref="RegistryErrorKind.TooLarge"/>.</summary>
    internal async Task<byte[]> ReadLimitedAsync(HttpContent content, long limit, string what, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is { } declared && declared > limit)
        {
            throw new RegistryException(RegistryErrorKind.TooLarge, $"{what}: {declared} bytes is more than the limit of {limit}");
        }

        var bytes = await ReadPrefixAsync(content, limit + 1, cancellationToken, what);
        if (bytes.Length > limit)
        {
            throw new RegistryException(RegistryErrorKind.TooLarge, $"{what}: more than the limit of {limit} bytes");
        }

        return bytes;
    }

    /// <summary>Reads at most <paramref name="limit"/> bytes, each read bounded by the read timeout.</summary>
    internal async Task<byte[]> ReadPrefixAsync(HttpContent content, long limit, CancellationToken cancellationToken, string? what = null)
    {
        try
        {
            await using var stream = await content.ReadAsStreamAsync(cancellationToken);
            using var buffer = new MemoryStream();
            var chunk = new byte[64 << 10];
            while (buffer.Length < limit)
            {
                var n = await ReadWithTimeoutAsync(stream, chunk.AsMemory(0, (int)Math.Min(chunk.Length, limit - buffer.Length)), cancellationToken);
                if (n == 0)
                {
                    break;
                }

                buffer.Write(chunk, 0, n);
            }

            return buffer.ToArray();
        }
        catch (Exception e) when (what is not null && IsTransient(e, cancellationToken))
        {
            throw new RegistryException(RegistryErrorKind.Network, $"{what}: {Describe(e)}", inner: e);
        }
    }

    internal async Task<int> ReadWithTimeoutAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ReadTimeout);
        try
        {
            return await stream.ReadAsync(buffer, timeout.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no data for {_options.ReadTimeout.TotalSeconds:0.###} s", e);
        }
    }

    internal static bool IsTransient(Exception e, CancellationToken cancellationToken) =>
        e is HttpRequestException or IOException or TimeoutException
        || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    internal TimeSpan Backoff(int attempt, RetryConditionHeaderValue? retryAfter)
    {
        if (retryAfter?.Delta is { } delta)
        {
            return delta < _options.MaxRetryDelay ? delta : _options.MaxRetryDelay;
        }

        var ms = _options.RetryDelay.TotalMilliseconds * Math.Pow(2, attempt - 1);
        ms = Math.Min(ms, _options.MaxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ms * (0.75 + (Random.Shared.NextDouble() / 2)));
    }

    internal RegistryClientOptions Options => _options;

    internal static string Describe(Exception e) => e switch
    {
        TimeoutException t => "timeout: " + t.Message,
        OperationCanceledException => "timeout",
        HttpRequestException { InnerException: { } inner } h => Sanitize(h.Message + ": " + inner.Message, 300).ToLowerInvariant(),
        _ => Sanitize(e.Message, 300).ToLowerInvariant(),
    };

    internal static string Sanitize(string value, int max)
    {
        var clean = new string(value.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        return clean.Length > max ? clean[..max] + "…" : clean;
    }

    private static bool IsRetriable(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout or HttpStatusCode.InternalServerError
            or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    private string? NextLink(HttpResponseMessage response, string what)
    {
        if (!response.Headers.TryGetValues("Link", out var links))
        {
            return null;
        }

        foreach (var link in links)
        {
            var match = LinkPattern().Match(link);
            if (!match.Success)
            {
                continue;
            }

            var next = new Uri(_baseUri!, match.Groups[1].Value);
            if (!SameAuthority(next, _baseUri!))
            {
                throw new RegistryException(RegistryErrorKind.Protocol, $"{what}: next page link points to another host");
            }

            return next.PathAndQuery;
        }

        return null;
    }

    private static bool SameAuthority(Uri a, Uri b) =>
        a.Scheme == b.Scheme && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    [System.Text.RegularExpressions.GeneratedRegex(@"^[\w][\w.-]{0,127}$")]
    private static partial System.Text.RegularExpressions.Regex TagPattern();

    [System.Text.RegularExpressions.GeneratedRegex(@"^\s*<([^>]*)>\s*;\s*rel=""?next""?", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex LinkPattern();

    private static string ScopeKey(string[] scopes) => string.Join(' ', scopes.Order(StringComparer.Ordinal));

    internal sealed class TagList
    {
        [JsonPropertyName("name")] public string? Name { get; set; }
        [JsonPropertyName("tags")] public List<string>? Tags { get; set; }
    }

    internal sealed class ErrorBody
    {
        [JsonPropertyName("errors")] public List<ErrorEntry>? Errors { get; set; }
    }

    internal sealed class ErrorEntry
    {
        [JsonPropertyName("code")] public string? Code { get; set; }
        [JsonPropertyName("message")] public string? Message { get; set; }
    }

    internal sealed class TokenResponse
    {
        [JsonPropertyName("token")] public string? Token { get; set; }
        [JsonPropertyName("access_token")] public string? AccessToken { get; set; }
        [JsonPropertyName("expires_in")] public int? ExpiresIn { get; set; }
    }
}

/// <summary>A manifest or index as fetched: its verified digest, the Content-Type and the exact bytes.</summary>
public sealed record RegistryManifest(Digest Digest, string? MediaType, byte[] Bytes);

[JsonSerializable(typeof(RegistryClient.TagList))]
[JsonSerializable(typeof(RegistryClient.ErrorBody))]
[JsonSerializable(typeof(RegistryClient.TokenResponse))]
internal sealed partial class RegistryJsonContext : JsonSerializerContext;
