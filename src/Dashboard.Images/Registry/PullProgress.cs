using Dashboard.Oci;

namespace Dashboard.Images.Registry;

/// <summary>The states of one blob in a pull, as <c>docker pull</c> shows them.</summary>
public enum PullState
{
    Waiting,
    Downloading,
    Verifying,
    Extracting,
    Complete,

    /// <summary>The blob (or the unpacked layer) was already in the store.</summary>
    AlreadyExists,
}

/// <summary>Progress of one layer: <paramref name="Current"/> of <paramref name="Total"/> bytes.</summary>
public sealed record PullProgress(Digest Layer, PullState State, long Current, long Total)
{
    /// <summary>The short id Docker shows (12 hex digits).</summary>
    public string ShortId => Layer.Encoded[..12];
}

/// <summary>The states of one blob in a push.</summary>
public enum PushState
{
    Waiting,
    Uploading,
    Mounted,
    AlreadyExists,
    Complete,
}

public sealed record PushProgress(Digest Blob, PushState State, long Current, long Total)
{
    public string ShortId => Blob.Encoded[..12];
}

/// <summary>Options of a pull; the default selects the host platform and unpacks the layers.</summary>
public sealed record PullOptions
{
    public Oci.Image.Platform? Platform { get; init; }

    /// <summary>Unpack layers into the layer store after download (the engine needs them to create containers).</summary>
    public bool Unpack { get; init; } = true;
}
