using System.Threading.Channels;
using Dashboard.Images;
using Dashboard.Images.Import;
using Dashboard.Images.Registry;

namespace Dashboard.Engine.Images;

/// <summary><c>POST /images/{name}/push</c> with Docker's progress messages, through <see cref="ImagePusher"/>.</summary>
public sealed partial class ImageService
{
    /// <summary>The full reference of a push: <c>name</c> plus <c>tag</c> (default latest).</summary>
    public static string PushReference(string name, string? tag)
    {
        var reference = string.IsNullOrEmpty(tag) ? name : name + ":" + tag;
        return ImageReference.TryNormalize(reference, out var normalized)
            ? normalized
            : throw new EngineException(ErrorKind.InvalidArgument, $"invalid reference format: {reference}");
    }

    /// <param name="credentials">The request's own credentials (<c>X-Registry-Auth</c>), used for this push only instead of the stored ones.</param>
    public async Task PushAsync(string normalized, Func<ProgressMessage, Task> report, CancellationToken cancellationToken, RegistryCredentials? credentials = null)
    {
        if (await FindAsync(normalized, cancellationToken) is null)
        {
            throw new EngineException(ErrorKind.NotFound, $"An image does not exist locally with the tag: {ImageReference.Familiar(normalized)}");
        }

        var parsed = RegistryReference.Parse(normalized);
        await report(new ProgressMessage { Status = $"The push refers to repository [{parsed.Registry}/{parsed.Repository}]" });
        var channel = Channel.CreateUnbounded<PushProgress>(new UnboundedChannelOptions { SingleReader = true });
        var progress = new PushChannelProgress(channel.Writer);
        using (await _gcLock.ReadAsync(cancellationToken))
        {
            var push = Task.Run(async () =>
            {
                try
                {
                    return await new ImagePusher(Store, Registries, ClientOptions(credentials)).PushAsync(normalized, null, progress, cancellationToken);
                }
                finally
                {
                    channel.Writer.TryComplete();
                }
            }, cancellationToken);
            await foreach (var p in channel.Reader.ReadAllAsync(CancellationToken.None))
            {
                await report(PushMessage(p));
            }

            Dashboard.Oci.Digest digest;
            try
            {
                digest = await push;
            }
            catch (RegistryException e)
            {
                throw new EngineException(RegistryKind(e.Kind), e.Message, e);
            }
            catch (ImageException e)
            {
                throw new EngineException(ErrorKind.InvalidArgument, e.Message, e);
            }

            var record = await Store.ResolveAsync(normalized, cancellationToken);
            var size = (await Store.Content.ReadAllAsync(record.ManifestDigest, RegistryLimits.MaxManifestSize, cancellationToken)).Length;
            await report(new ProgressMessage { Status = $"{parsed.Tag ?? "latest"}: digest: {digest} size: {size}" });
            await PublishAsync("push", record.Id.ToString(), ImageReference.Familiar(normalized));
        }
    }

    private static ProgressMessage PushMessage(PushProgress p)
    {
        var (status, detail) = p.State switch
        {
            PushState.Waiting => ("Preparing", new ProgressDetail()),
            PushState.Uploading => ("Pushing", new ProgressDetail { Current = p.Current, Total = p.Total }),
            PushState.Mounted => ("Mounted from another repository", new ProgressDetail()),
            PushState.AlreadyExists => ("Layer already exists", new ProgressDetail()),
            _ => ("Pushed", new ProgressDetail()),
        };
        return new ProgressMessage
        {
            Status = status,
            Id = p.ShortId,
            ProgressDetail = detail,
            Progress = detail.Total > 0 ? Bar(detail.Current, detail.Total) : null,
        };
    }

    private sealed class PushChannelProgress(ChannelWriter<PushProgress> writer) : IProgress<PushProgress>
    {
        public void Report(PushProgress value) => writer.TryWrite(value);
    }
}
