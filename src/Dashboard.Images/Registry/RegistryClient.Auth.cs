using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Dashboard.Images.Registry;

/// <summary>Ping, authentication and redirects (security.md C1, C3).</summary>
public sealed partial class RegistryClient
{
    /// <summary>Learns scheme and challenge from <c>GET /v2/</c>: HTTPS first, plain HTTP only for a registry configured insecure.</summary>
    private async Task EnsureBaseAsync(string what, CancellationToken cancellationToken)
    {
        if (_baseUri is not null)
        {
            return;
        }

        await _authLock.WaitAsync(cancellationToken);
        try
        {
            Exception? last = null;
            string[] schemes = _settings.Insecure ? ["https", "http"] : ["https"];
            for (var attempt = 1; attempt <= _options.MaxAttempts && _baseUri is null; attempt++)
            {
                if (attempt > 1)
                {
                    await Task.Delay(Backoff(attempt - 1, null), cancellationToken);
                }

                foreach (var scheme in schemes)
                {
                    var baseUri = new Uri($"{scheme}://{Endpoint}/");
                    try
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, "/v2/"));
                        using var response = await SendOnceAsync(request, cancellationToken);
                        if ((int)response.StatusCode >= 500)
                        {
                            last = new HttpRequestException($"{(int)response.StatusCode} {response.ReasonPhrase}");
                            continue;
                        }

                        _challenge = response.StatusCode == HttpStatusCode.Unauthorized ? AuthChallenge.From(response.Headers.WwwAuthenticate) : null;
                        _baseUri = baseUri;
                        break;
                    }
                    catch (Exception e) when (IsTransient(e, cancellationToken))
                    {
                        last = e;
                    }
                }
            }

            if (_baseUri is null)
            {
                throw new RegistryException(RegistryErrorKind.Network, $"{what}: registry {Registry} not reachable: {Describe(last!)}", inner: last);
            }
        }
        finally
        {
            _authLock.Release();
        }
    }

    private async Task AuthorizeAsync(HttpRequestMessage request, string[] scopes, string what, CancellationToken cancellationToken)
    {
        if (!SameAuthority(request.RequestUri!, _baseUri!) || _challenge is not { } challenge)
        {
            return;
        }

        if (challenge.IsBasic)
        {
            if (_settings.Credentials is { } credentials && CanSendCredentials(_baseUri!))
            {
                request.Headers.Authorization = BasicHeader(credentials);
            }

            return;
        }

        if (challenge.IsBearer)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await GetTokenAsync(challenge, scopes, what, cancellationToken));
        }
    }

    private async Task<string> GetTokenAsync(AuthChallenge challenge, string[] scopes, string what, CancellationToken cancellationToken)
    {
        var key = ScopeKey(scopes);
        await _authLock.WaitAsync(cancellationToken);
        try
        {
            if (_tokens.TryGetValue(key, out var cached) && cached.Expires > DateTimeOffset.UtcNow)
            {
                return cached.Token;
            }

            var realm = CheckRealm(challenge.Realm, what);
            var query = new StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] : string.Empty);
            if (challenge.Service is { } service)
            {
                query.Append(query.Length > 0 ? "&" : string.Empty).Append("service=").Append(Uri.EscapeDataString(service));
            }

            // Only our own scopes are requested; a challenge's scope could ask for another repository (security.md C1).
            foreach (var scope in scopes)
            {
                query.Append(query.Length > 0 ? "&" : string.Empty).Append("scope=").Append(Uri.EscapeDataString(scope));
            }

            var uri = new UriBuilder(realm) { Query = query.ToString() }.Uri;
            var sendCredentials = _settings.Credentials is not null && CredentialsAllowedFor(realm);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                    if (sendCredentials)
                    {
                        request.Headers.Authorization = BasicHeader(_settings.Credentials!);
                    }

                    // No redirects on the token request (devcontainers/cli #1276).
                    using var response = await SendOnceAsync(request, cancellationToken);
                    if (IsRedirect(response.StatusCode))
                    {
                        throw new RegistryException(RegistryErrorKind.Protocol, $"{what}: token endpoint {realm.Host} redirected; refused");
                    }

                    if ((int)response.StatusCode >= 500 && attempt < _options.MaxAttempts)
                    {
                        await Task.Delay(Backoff(attempt, response.Headers.RetryAfter), cancellationToken);
                        continue;
                    }

                    if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                    {
                        throw new RegistryException(
                            response.StatusCode == HttpStatusCode.Forbidden ? RegistryErrorKind.Denied : RegistryErrorKind.Unauthorized,
                            $"{what}: token endpoint {realm.Host}: {(int)response.StatusCode} {(sendCredentials ? "credentials rejected" : "anonymous access denied")}",
                            response.StatusCode);
                    }

                    await EnsureSuccessAsync(response, $"{what}: token endpoint {realm.Host}", cancellationToken);
                    var bytes = await ReadLimitedAsync(response.Content, RegistryLimits.MaxTokenSize, $"{what}: token response", cancellationToken);
                    TokenResponse? parsed;
                    try
                    {
                        parsed = JsonSerializer.Deserialize(bytes, RegistryJsonContext.Default.TokenResponse);
                    }
                    catch (JsonException e)
                    {
                        throw new RegistryException(RegistryErrorKind.Protocol, $"{what}: invalid token response: {e.Message}", inner: e);
                    }

                    var token = parsed?.Token is { Length: > 0 } t ? t : parsed?.AccessToken;
                    if (string.IsNullOrEmpty(token) || token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                    {
                        throw new RegistryException(RegistryErrorKind.Protocol, $"{what}: token response has no usable token");
                    }

                    // Token spec: a missing or short expires_in means 60 seconds; renew a little early.
                    var lifetime = TimeSpan.FromSeconds(Math.Max(60, parsed!.ExpiresIn ?? 60)) - TimeSpan.FromSeconds(10);
                    _tokens[key] = (token, DateTimeOffset.UtcNow + lifetime);
                    return token;
                }
                catch (Exception e) when (IsTransient(e, cancellationToken))
                {
                    if (attempt >= _options.MaxAttempts)
                    {
                        throw new RegistryException(RegistryErrorKind.Network, $"{what}: token endpoint {realm.Host}: {Describe(e)}", inner: e);
                    }

                    await Task.Delay(Backoff(attempt, null), cancellationToken);
                }
            }
        }
        finally
        {
            _authLock.Release();
        }
    }

    /// <summary>The realm of a Bearer challenge, if it is one we may contact at all (security.md C1).</summary>
    private Uri CheckRealm(string? realm, string what)
    {
        if (string.IsNullOrEmpty(realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var uri))
        {
            throw new RegistryException(RegistryErrorKind.Protocol, $"{what}: bearer challenge without a valid realm");
        }

        string? why = null;
        if (uri.Scheme is not ("https" or "http"))
        {
            why = $"scheme {uri.Scheme} is not https";
        }
        else if (uri.Scheme == "http" && !_settings.Insecure)
        {
            why = "realm is plain http and the registry is not configured insecure";
        }
        else if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            why = "realm carries user info";
        }
        else if (HostPolicy.IsLinkLocal(uri.Host))
        {
            why = "realm is a link-local address";
        }
        else if (HostPolicy.IsPrivate(uri.Host) && !HostPolicy.IsPrivate(_baseUri!.Host) && !_options.AllowPrivateAddresses)
        {
            why = "realm is a private address and the registry is not";
        }

        return why is null ? uri : throw new RegistryException(RegistryErrorKind.Denied, $"{what}: token realm {Sanitize(uri.GetLeftPart(UriPartial.Authority), 100)} refused: {why}");
    }

    /// <summary>Basic credentials go only to the registry's own host, its site, or configured token hosts, never over plain HTTP to another host.</summary>
    private bool CredentialsAllowedFor(Uri realm)
    {
        var registryHost = _baseUri!.Host;
        var sameHost = string.Equals(realm.Host, registryHost, StringComparison.OrdinalIgnoreCase);
        if (realm.Scheme == "http")
        {
            return sameHost && _settings.Insecure;
        }

        return sameHost
            || string.Equals(HostPolicy.Site(realm.Host), HostPolicy.Site(registryHost), StringComparison.OrdinalIgnoreCase)
            || _options.TrustedTokenHosts.Contains(realm.Host, StringComparer.OrdinalIgnoreCase);
    }

    private bool CanSendCredentials(Uri uri) => uri.Scheme == "https" || _settings.Insecure;

    private static AuthenticationHeaderValue BasicHeader(RegistryCredentials credentials) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.Username}:{credentials.Secret}")));

    /// <summary>Follows up to <see cref="RegistryClientOptions.MaxRedirects"/> redirects; Authorization only ever goes back to the registry itself.</summary>
    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(HttpRequestMessage first, string what, CancellationToken cancellationToken)
    {
        var request = first;
        for (var hops = 0; ; hops++)
        {
            var response = await SendOnceAsync(request, cancellationToken);
            if (!IsRedirect(response.StatusCode))
            {
                return response;
            }

            var location = response.Headers.Location;
            response.Dispose();
            if (hops >= _options.MaxRedirects)
            {
                throw new RegistryException(RegistryErrorKind.Protocol, $"{what}: more than {_options.MaxRedirects} redirects");
            }

            if (location is null)
            {
                throw new RegistryException(RegistryErrorKind.Protocol, $"{what}: redirect without a location");
            }

            var target = location.IsAbsoluteUri ? location : new Uri(request.RequestUri!, location);
            CheckRedirect(request.RequestUri!, target, what);
            if (request.Method != HttpMethod.Get && request.Method != HttpMethod.Head)
            {
                throw new RegistryException(RegistryErrorKind.Protocol, $"{what}: registry redirected a {request.Method} request");
            }

            var next = new HttpRequestMessage(request.Method, target);
            foreach (var accept in request.Headers.Accept)
            {
                next.Headers.Accept.Add(accept);
            }

            next.Headers.Range = request.Headers.Range;
            if (SameAuthority(target, _baseUri!))
            {
                next.Headers.Authorization = request.Headers.Authorization;
            }

            if (!ReferenceEquals(request, first))
            {
                request.Dispose();
            }

            request = next;
        }
    }

    private void CheckRedirect(Uri from, Uri to, string what)
    {
        string? why = null;
        if (to.Scheme is not ("https" or "http"))
        {
            why = $"scheme {to.Scheme}";
        }
        else if (!string.IsNullOrEmpty(to.UserInfo))
        {
            why = "location carries user info";
        }
        else if (HostPolicy.IsLinkLocal(to.Host))
        {
            why = "link-local address";
        }
        else if (to.Scheme == "http" && from.Scheme == "https")
        {
            why = "downgrade from https to http";
        }
        else if (to.Scheme == "http" && !_settings.Insecure)
        {
            why = "plain http from a registry that is not configured insecure";
        }
        else if (HostPolicy.IsPrivate(to.Host) && !HostPolicy.IsPrivate(_baseUri!.Host) && !_options.AllowPrivateAddresses)
        {
            why = "private address";
        }

        if (why is not null)
        {
            throw new RegistryException(RegistryErrorKind.Denied, $"{what}: redirect to {Sanitize(to.GetLeftPart(UriPartial.Authority), 100)} refused: {why}");
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ResponseTimeout);
        try
        {
            return await _http.SendAsync(request, timeout.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no response within {_options.ResponseTimeout.TotalSeconds:0.###} s", e);
        }
    }

    private static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;
}
