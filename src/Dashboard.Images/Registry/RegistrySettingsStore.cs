using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dashboard.Images.Registry;

/// <summary>What the settings API shows about a registry: never its secret.</summary>
public sealed record RegistryEntry(string Registry, string? Username, bool HasSecret, bool Insecure);

/// <summary>A username and its password or token; <see cref="ToString"/> never shows the secret.</summary>
public sealed class RegistryCredentials(string username, string secret)
{
    public string Username { get; } = username;

    public string Secret { get; } = secret;

    public override string ToString() => $"{Username}:***";
}

/// <summary>The settings a client needs for one registry (internal: the secret never leaves the library).</summary>
internal sealed record RegistryHostSettings(string Registry, RegistryCredentials? Credentials, bool Insecure)
{
    public static RegistryHostSettings Default(string registry) => new(registry, null, false);
}

/// <summary>
/// Per-registry settings: credentials (encrypted at rest with AES-256-GCM under a key file created
/// 0600 on first use, bound to the registry and username as associated data so a ciphertext cannot
/// be moved to another entry) and the explicit insecure/HTTP opt-in (CIS Docker 2.4: insecure
/// registries only by admin configuration). The public API is write-only for secrets: set, remove,
/// and list entries without them.
/// </summary>
public sealed class RegistrySettingsStore
{
    private const int KeySize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _path;
    private readonly string _keyPath;
    private readonly SemaphoreSlim _lock = new(1, 1);

    /// <param name="directory">Where <c>registries.json</c> and <c>registries.key</c> live (created 0700).</param>
    public RegistrySettingsStore(string directory)
    {
        Directory = Path.GetFullPath(directory);
        Content.ContentStore.CreatePrivateDirectory(Directory);
        _path = Path.Combine(Directory, "registries.json");
        _keyPath = Path.Combine(Directory, "registries.key");
    }

    public string Directory { get; }

    public async Task SetCredentialsAsync(string registry, string username, string secret, CancellationToken cancellationToken = default)
    {
        registry = NormalizeRegistry(registry);
        if (string.IsNullOrEmpty(username) || username.Contains(':', StringComparison.Ordinal) || username.Any(char.IsControl))
        {
            throw new ArgumentException("username must be non-empty without ':' or control characters", nameof(username));
        }

        await UpdateAsync(file =>
        {
            var entry = file.Registries.GetValueOrDefault(registry) ?? new StoredEntry();
            entry.Username = username;
            entry.Secret = Convert.ToBase64String(Encrypt(registry, username, secret));
            file.Registries[registry] = entry;
        }, cancellationToken);
    }

    /// <summary>Allows plain HTTP (and unverified TLS) for one registry; meant for <c>localhost:5000</c>-style registries.</summary>
    public Task SetInsecureAsync(string registry, bool insecure, CancellationToken cancellationToken = default)
    {
        registry = NormalizeRegistry(registry);
        return UpdateAsync(file =>
        {
            var entry = file.Registries.GetValueOrDefault(registry) ?? new StoredEntry();
            entry.Insecure = insecure;
            file.Registries[registry] = entry;
        }, cancellationToken);
    }

    public Task RemoveCredentialsAsync(string registry, CancellationToken cancellationToken = default)
    {
        registry = NormalizeRegistry(registry);
        return UpdateAsync(file =>
        {
            if (file.Registries.TryGetValue(registry, out var entry))
            {
                entry.Username = null;
                entry.Secret = null;
                if (!entry.Insecure)
                {
                    file.Registries.Remove(registry);
                }
            }
        }, cancellationToken);
    }

    public Task RemoveAsync(string registry, CancellationToken cancellationToken = default)
    {
        registry = NormalizeRegistry(registry);
        return UpdateAsync(file => file.Registries.Remove(registry), cancellationToken);
    }

    public async Task<IReadOnlyList<RegistryEntry>> ListAsync(CancellationToken cancellationToken = default)
    {
        var file = await ReadAsync(cancellationToken);
        return file.Registries.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new RegistryEntry(p.Key, p.Value.Username, p.Value.Secret is not null, p.Value.Insecure)).ToList();
    }

    internal async Task<RegistryHostSettings> GetAsync(string registry, CancellationToken cancellationToken = default)
    {
        registry = NormalizeRegistry(registry);
        var file = await ReadAsync(cancellationToken);
        if (!file.Registries.TryGetValue(registry, out var entry))
        {
            return RegistryHostSettings.Default(registry);
        }

        RegistryCredentials? credentials = null;
        if (entry is { Username: { } username, Secret: { } secret })
        {
            credentials = new RegistryCredentials(username, Decrypt(registry, username, Convert.FromBase64String(secret)));
        }

        return new RegistryHostSettings(registry, credentials, entry.Insecure);
    }

    internal static string NormalizeRegistry(string registry)
    {
        var value = registry.Trim().ToLowerInvariant();
        if (value.Length == 0 || value.Length > 255 || value.Any(c => char.IsControl(c) || c is '/' or '@' or ' '))
        {
            throw new ArgumentException($"invalid registry name \"{registry}\"", nameof(registry));
        }

        return value;
    }

    private async Task UpdateAsync(Action<StoredFile> change, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            var file = await ReadUnlockedAsync(cancellationToken);
            change(file);
            var temp = _path + ".tmp";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = PrivateFile };
            await using (var stream = new FileStream(temp, options))
            {
                await JsonSerializer.SerializeAsync(stream, file, RegistrySettingsJsonContext.Default.StoredFile, cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, _path, overwrite: true);
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task<StoredFile> ReadAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            return await ReadUnlockedAsync(cancellationToken);
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task<StoredFile> ReadUnlockedAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(_path))
        {
            return new StoredFile();
        }

        await using var stream = File.OpenRead(_path);
        return await JsonSerializer.DeserializeAsync(stream, RegistrySettingsJsonContext.Default.StoredFile, cancellationToken) ?? new StoredFile();
    }

    private byte[] Encrypt(string registry, string username, string secret)
    {
        var key = LoadOrCreateKey();
        var plain = Encoding.UTF8.GetBytes(secret);
        var output = new byte[NonceSize + plain.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length), AssociatedData(registry, username));
        CryptographicOperations.ZeroMemory(plain);
        CryptographicOperations.ZeroMemory(key);
        return output;
    }

    private string Decrypt(string registry, string username, byte[] sealedSecret)
    {
        if (sealedSecret.Length < NonceSize + TagSize)
        {
            throw new ImageException(ImageErrorKind.InvalidState, $"credentials for {registry} are corrupt");
        }

        var key = LoadOrCreateKey();
        var length = sealedSecret.Length - NonceSize - TagSize;
        var plain = new byte[length];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(sealedSecret.AsSpan(0, NonceSize), sealedSecret.AsSpan(NonceSize, length), sealedSecret.AsSpan(NonceSize + length), plain, AssociatedData(registry, username));
            return Encoding.UTF8.GetString(plain);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new ImageException(ImageErrorKind.InvalidState, $"credentials for {registry} cannot be decrypted with {_keyPath}", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static byte[] AssociatedData(string registry, string username) => Encoding.UTF8.GetBytes($"dashboard-registry-credentials\n{registry}\n{username}");

    private byte[] LoadOrCreateKey()
    {
        try
        {
            var key = new byte[KeySize];
            RandomNumberGenerator.Fill(key);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = PrivateFile };
            using (var stream = new FileStream(_keyPath, options))
            {
                stream.Write(key);
                stream.Flush(flushToDisk: true);
            }

            return key;
        }
        catch (IOException) when (File.Exists(_keyPath))
        {
            // Created earlier (or by a concurrent writer): use it, but only while nobody else can read it.
        }

        var mode = File.GetUnixFileMode(_keyPath);
        if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
        {
            throw new ImageException(ImageErrorKind.PermissionDenied, $"{_keyPath}: key file is accessible to group or others");
        }

        var bytes = File.ReadAllBytes(_keyPath);
        if (bytes.Length != KeySize)
        {
            throw new ImageException(ImageErrorKind.InvalidState, $"{_keyPath}: key file has {bytes.Length} bytes, want {KeySize}");
        }

        return bytes;
    }

    internal sealed class StoredFile
    {
        [JsonPropertyName("registries")] public Dictionary<string, StoredEntry> Registries { get; set; } = new(StringComparer.Ordinal);
    }

    internal sealed class StoredEntry
    {
        [JsonPropertyName("username")] public string? Username { get; set; }

        /// <summary>base64(nonce ‖ ciphertext ‖ tag).</summary>
        [JsonPropertyName("secret")] public string? Secret { get; set; }

        [JsonPropertyName("insecure")] public bool Insecure { get; set; }
    }
}

[JsonSerializable(typeof(RegistrySettingsStore.StoredFile))]
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class RegistrySettingsJsonContext : JsonSerializerContext;
