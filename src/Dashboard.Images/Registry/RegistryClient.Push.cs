using System.Net;
using System.Net.Http.Headers;
using Dashboard.Oci.Image;

namespace Dashboard.Images.Registry;

/// <summary>Blob uploads (distribution spec "Pushing blobs": monolithic, chunked, cross-repository mount).</summary>
public sealed partial class RegistryClient
{
    /// <summary>
    /// Uploads a blob unless the repository has it: HEAD first, then a cross-repository mount from
    /// <paramref name="mountFrom"/> when given, else POST + PUT (or PATCH chunks + PUT) with the
    /// digest. <paramref name="open"/> opens the content afresh for each attempt.
    /// </summary>
    public async Task<PushState> PushBlobAsync(string repository, Descriptor blob, Func<Stream> open, string? mountFrom = null, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        if (await BlobExistsAsync(repository, blob, cancellationToken))
        {
            return PushState.AlreadyExists;
        }

        var what = $"push blob {blob.Digest}";
        string[] scopes = mountFrom is null ? Push(repository) : [.. Push(repository), .. Pull(mountFrom)];
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Uri location;
                var start = mountFrom is null
                    ? $"/v2/{repository}/blobs/uploads/"
                    : $"/v2/{repository}/blobs/uploads/?mount={blob.Digest}&from={mountFrom}";
                using (var response = await SendAsync(() => Request(HttpMethod.Post, start), scopes, what, cancellationToken, retry: false))
                {
                    if (mountFrom is not null && response.StatusCode == HttpStatusCode.Created)
                    {
                        CheckStatedDigest(response, blob.Digest, what);
                        return PushState.Mounted;
                    }

                    await EnsureSuccessAsync(response, what, cancellationToken);
                    location = UploadLocation(response, what);
                }

                if (Options.UploadChunkSize > 0 && blob.Size > Options.UploadChunkSize)
                {
                    location = await UploadChunksAsync(repository, location, blob, open, progress, what, cancellationToken);
                    using var done = await SendAsync(() => Request(HttpMethod.Put, WithQuery(location, "digest", blob.Digest.ToString())), scopes, what, cancellationToken, retry: false);
                    await EnsureSuccessAsync(done, what, cancellationToken);
                    CheckStatedDigest(done, blob.Digest, what);
                }
                else
                {
                    using var response = await SendAsync(() =>
                    {
                        var request = Request(HttpMethod.Put, WithQuery(location, "digest", blob.Digest.ToString()));
                        request.Content = new StreamContent(new CountingStream(open(), progress));
                        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                        request.Content.Headers.ContentLength = blob.Size;
                        return request;
                    }, scopes, what, cancellationToken, retry: false);
                    await EnsureSuccessAsync(response, what, cancellationToken);
                    CheckStatedDigest(response, blob.Digest, what);
                }

                return PushState.Complete;
            }
            catch (RegistryException e) when (e.Kind == RegistryErrorKind.Network && attempt < Options.MaxAttempts)
            {
                await Task.Delay(Backoff(attempt, null), cancellationToken);
            }
        }
    }

    private async Task<Uri> UploadChunksAsync(string repository, Uri location, Descriptor blob, Func<Stream> open, IProgress<long>? progress, string what, CancellationToken cancellationToken)
    {
        await using var source = open();
        var buffer = new byte[(int)Math.Min(Options.UploadChunkSize, int.MaxValue - 64)];
        long offset = 0;
        while (offset < blob.Size)
        {
            var n = await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
            if (n == 0)
            {
                throw new ImageException(ImageErrorKind.Io, $"{what}: local blob ended at byte {offset} of {blob.Size}");
            }

            var start = offset;
            var current = location;
            using var response = await SendAsync(() =>
            {
                var request = Request(HttpMethod.Patch, current);
                request.Content = new ByteArrayContent(buffer, 0, n);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + n - 1}");
                return request;
            }, Push(repository), what, cancellationToken, retry: false);
            await EnsureSuccessAsync(response, what, cancellationToken);
            location = UploadLocation(response, what);
            offset += n;
            progress?.Report(offset);
        }

        return location;
    }

    /// <summary>The upload URL a registry returned; it gets credentials only if it is the registry itself (AuthorizeAsync checks the authority).</summary>
    private Uri UploadLocation(HttpResponseMessage response, string what)
    {
        var location = response.Headers.Location ?? throw new RegistryException(RegistryErrorKind.Protocol, $"{what}: upload response without a location");
        var uri = location.IsAbsoluteUri ? location : new Uri(_baseUri!, location);
        CheckRedirect(_baseUri!, uri, what);
        return uri;
    }

    private static Uri WithQuery(Uri uri, string key, string value)
    {
        var builder = new UriBuilder(uri);
        var query = builder.Query.TrimStart('?');
        builder.Query = (query.Length > 0 ? query + "&" : string.Empty) + key + "=" + Uri.EscapeDataString(value);
        return builder.Uri;
    }

    /// <summary>Reports how many bytes of a request body were read by the handler.</summary>
    private sealed class CountingStream(Stream inner, IProgress<long>? progress) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Count(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Count(int n)
        {
            _position += n;
            if (n > 0)
            {
                progress?.Report(_position);
            }

            return n;
        }
    }
}
