using System.Globalization;
using System.Threading.Channels;
using Dashboard.Images;
using Dashboard.Images.Import;
using Dashboard.Images.Registry;

namespace Dashboard.Engine.Images;

/// <summary><c>POST /images/create</c> (pull) with Docker's progress messages, and pull-on-create for configured registries.</summary>
public sealed partial class ImageService
{
    private RegistrySettingsStore? _registries;

    /// <summary>Registry credentials and insecure (plain HTTP) opt-ins, under <c>DATA_ROOT/registries</c> (admin-only: root-owned 0700).</summary>
    public RegistrySettingsStore Registries => _registries ??= new RegistrySettingsStore(Path.Combine(_options.DataRoot, "registries"));

    /// <summary>
    /// The reference <c>/images/create</c> names: <c>fromImage</c> plus <c>tag</c>, where the tag may
    /// be a digest (<c>fromImage=busybox&amp;tag=sha256:…</c>) and an empty tag means <c>latest</c>
    /// unless <c>fromImage</c> carries one.
    /// </summary>
    public static string PullReference(string fromImage, string? tag)
    {
        if (string.IsNullOrEmpty(fromImage))
        {
            throw new EngineException(ErrorKind.InvalidArgument, "fromImage is required (importing from a source is not supported by this engine)");
        }

        var reference = string.IsNullOrEmpty(tag) ? fromImage
            : tag.Contains(':', StringComparison.Ordinal) ? fromImage + "@" + tag
            : fromImage + ":" + tag;
        return ImageReference.TryNormalize(reference, out var normalized)
            ? normalized
            : throw new EngineException(ErrorKind.InvalidArgument, $"invalid reference format: {reference}");
    }

    /// <summary>
    /// Pulls an image, reporting Docker's JSON progress messages through <paramref name="report"/>
    /// (called from one task at a time, in order).
    /// </summary>
    /// <param name="credentials">The request's own credentials (<c>X-Registry-Auth</c>), used for this pull only instead of the stored ones.</param>
    public async Task PullAsync(string normalized, Func<ProgressMessage, Task> report, CancellationToken cancellationToken, RegistryCredentials? credentials = null)
    {
        var before = await FindAsync(normalized, cancellationToken);
        var parsed = RegistryReference.Parse(normalized);
        await report(new ProgressMessage { Status = "Pulling from " + parsed.Repository, Id = parsed.Tag ?? parsed.Digest?.ToString() ?? "latest" });

        var channel = Channel.CreateUnbounded<PullProgress>(new UnboundedChannelOptions { SingleReader = true });
        var progress = new ChannelProgress(channel.Writer);
        Task<Dashboard.Images.Records.ImageRecord> pull;
        using (await _gcLock.ReadAsync(cancellationToken))
        {
            pull = Task.Run(async () =>
            {
                try
                {
                    return await new ImagePuller(Store, Registries, ClientOptions(credentials)).PullAsync(normalized, progress, cancellationToken);
                }
                finally
                {
                    channel.Writer.TryComplete();
                }
            }, cancellationToken);
            await foreach (var p in channel.Reader.ReadAllAsync(CancellationToken.None))
            {
                await report(Message(p));
            }

            try
            {
                var record = await pull;
                var (manifest, config) = await Store.LoadAsync(record, cancellationToken);
                await Store.Layers.UnpackAsync(manifest, config, cancellationToken);
                await report(new ProgressMessage { Status = "Digest: " + record.ManifestDigest });
                var familiar = ImageReference.Familiar(normalized);
                await report(new ProgressMessage
                {
                    Status = before?.Id == record.Id ? "Status: Image is up to date for " + familiar : "Status: Downloaded newer image for " + familiar,
                });
                await PublishAsync("pull", record.Id.ToString(), familiar);
            }
            catch (RegistryException e)
            {
                throw new EngineException(RegistryKind(e.Kind), e.Message, e);
            }
        }
    }

    /// <summary>Pull-on-create: only from registries the admin configured (credentials or insecure opt-in), never from an arbitrary name.</summary>
    public async Task<bool> CanPullOnDemandAsync(string reference, CancellationToken cancellationToken)
    {
        if (!ImageReference.TryNormalize(reference, out var normalized) || reference.StartsWith("sha256:", StringComparison.Ordinal))
        {
            return false;
        }

        var registry = RegistryReference.Parse(normalized).Registry;
        return (await Registries.ListAsync(cancellationToken)).Any(r => r.Registry == registry);
    }

    async Task<ResolvedImage> IImageSource.ResolveAsync(string reference, CancellationToken cancellationToken)
    {
        if (await FindAsync(reference, cancellationToken) is null && await CanPullOnDemandAsync(reference, cancellationToken))
        {
            _log.LogInformation("pulling {Reference} for a container create", reference);
            await PullAsync(ImageReference.Normalize(reference), _ => Task.CompletedTask, cancellationToken);
        }

        return await ResolveAsync(reference, cancellationToken);
    }

    private static RegistryClientOptions? ClientOptions(RegistryCredentials? credentials) =>
        credentials is null ? null : new RegistryClientOptions { Credentials = credentials };

    private static ErrorKind RegistryKind(RegistryErrorKind kind) => kind switch
    {
        RegistryErrorKind.NotFound => ErrorKind.NotFound,
        RegistryErrorKind.Unauthorized or RegistryErrorKind.Denied => ErrorKind.PermissionDenied,
        RegistryErrorKind.TooLarge or RegistryErrorKind.DigestMismatch or RegistryErrorKind.Protocol => ErrorKind.InvalidArgument,
        _ => ErrorKind.Internal,
    };

    private static ProgressMessage Message(PullProgress p)
    {
        var (status, detail) = p.State switch
        {
            PullState.Waiting => ("Waiting", new ProgressDetail()),
            PullState.Downloading when p.Current == 0 => ("Pulling fs layer", new ProgressDetail()),
            PullState.Downloading => ("Downloading", new ProgressDetail { Current = p.Current, Total = p.Total }),
            PullState.Verifying => ("Verifying Checksum", new ProgressDetail()),
            PullState.Extracting => ("Extracting", new ProgressDetail { Current = p.Current, Total = p.Total }),
            PullState.Complete => ("Pull complete", new ProgressDetail()),
            _ => ("Already exists", new ProgressDetail()),
        };
        return new ProgressMessage
        {
            Status = status,
            Id = p.ShortId,
            ProgressDetail = detail,
            Progress = detail.Total > 0 ? Bar(detail.Current, detail.Total) : null,
        };
    }

    /// <summary>The bar <c>docker pull</c> prints beside a layer (jsonmessage.JSONProgress).</summary>
    private static string Bar(long current, long total)
    {
        const int Width = 50;
        var filled = (int)Math.Clamp(current * Width / Math.Max(total, 1), 0, Width);
        var arrow = filled < Width ? ">" : "";
        return $"[{new string('=', Math.Max(filled - arrow.Length, 0))}{arrow}{new string(' ', Width - filled)}] {Size(current)}/{Size(total)}";
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1_000_000_000 => (bytes / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "GB",
        >= 1_000_000 => (bytes / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "MB",
        >= 1_000 => (bytes / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + "kB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + "B",
    };

    private sealed class ChannelProgress(ChannelWriter<PullProgress> writer) : IProgress<PullProgress>
    {
        public void Report(PullProgress value) => writer.TryWrite(value);
    }
}
