using System.Formats.Tar;
using System.Text;
using Dashboard.Oci;
using Dashboard.Oci.Image;
using Dashboard.Testing.Images;

namespace Dashboard.Engine.Tests.Fakes;

/// <summary>
/// Image archives for engine tests, as <c>docker load</c> receives them: an OCI layout tar whose
/// index names the image (<c>io.containerd.image.name</c>) and, optionally, the <c>manifest.json</c>
/// of the <c>docker save</c> format.
/// </summary>
public static class TestImages
{
    private static readonly Lazy<byte[]> s_busyboxLayer = new(BusyboxImage.BuildLayerTar);

    /// <summary>A small layer for the fake runtime: /etc/passwd and /etc/group with a few users, /data with a file.</summary>
    public static byte[] EtcLayer() => new TestTar()
        .Dir("etc/")
        .File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\n")
        .File("etc/group", "root:x:0:\nwww:x:33:\nextra:x:500:www\n")
        .Dir("data/", 0x1ED, 33, 33)
        .File("data/seed.txt", "from the image\n", 0x1A4, 33, 33)
        .Dir("tmp/", 0x3FF)
        .ToArray();

    /// <summary>The busybox-static layer (binary, applet links, passwd, group, /tmp, /root).</summary>
    public static byte[] BusyboxLayer() => s_busyboxLayer.Value;

    /// <summary>The image the fake-runtime tests call <c>busybox</c>: Cmd sh, IMAGE_VAR=1, label from=image.</summary>
    public static byte[] FakeBusybox(string name = "busybox:latest") =>
        Archive([name], [EtcLayer()], new ContainerConfig
        {
            Cmd = ["sh"],
            Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "IMAGE_VAR=1"],
            Labels = new Dictionary<string, string> { ["from"] = "image" },
        });

    /// <summary>A runnable busybox image (real runtime, docker CLI runs).</summary>
    public static byte[] RealBusybox(string name = "busybox:latest", ContainerConfig? config = null, params byte[][] extraLayers) =>
        Archive([name], [BusyboxLayer(), .. extraLayers], config ?? new ContainerConfig
        {
            Cmd = ["sh"],
            Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        });

    /// <summary>An image archive. <paramref name="names"/> are full references (<c>busybox:latest</c>); none makes an unnamed image.</summary>
    public static byte[] Archive(IReadOnlyList<string> names, IReadOnlyList<byte[]> layerTars, ContainerConfig config, bool dockerManifest = false, string created = "2024-01-01T00:00:00Z")
    {
        var blobs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        string Put(byte[] data)
        {
            var digest = Digest.Compute(data).ToString();
            blobs[digest] = data;
            return digest;
        }

        var manifest = new ImageManifest { MediaType = MediaTypes.OciManifest };
        var imageConfig = new ImageConfig
        {
            Created = created,
            Architecture = BusyboxImage.GoArch(),
            Os = "linux",
            Config = config,
            History = [],
        };
        foreach (var tar in layerTars)
        {
            imageConfig.RootFs.DiffIds.Add(Digest.Compute(tar));
            var gz = TestTar.Gzip(tar);
            manifest.Layers.Add(new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = Digest.Parse(Put(gz)), Size = gz.Length });
            imageConfig.History.Add(new History { Created = created, CreatedBy = "test layer " + manifest.Layers.Count });
        }

        var configBytes = ImageJson.Serialize(imageConfig);
        manifest.Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = Digest.Parse(Put(configBytes)), Size = configBytes.Length };
        var manifestBytes = ImageJson.Serialize(manifest);
        var manifestDigest = Put(manifestBytes);
        var index = new ImageIndex { MediaType = MediaTypes.OciIndex };
        foreach (var name in names.Count > 0 ? names.Cast<string?>() : [null])
        {
            var d = new Descriptor { MediaType = MediaTypes.OciManifest, Digest = Digest.Parse(manifestDigest), Size = manifestBytes.Length };
            if (name is not null)
            {
                var full = name.Contains('/', StringComparison.Ordinal) ? name : "docker.io/library/" + name;
                d.Annotations = new Dictionary<string, string> { [AnnotationKeys.ContainerdImageName] = full, [AnnotationKeys.RefName] = name[(name.LastIndexOf(':') + 1)..] };
            }

            index.Manifests.Add(d);
        }

        using var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            void File(string path, byte[] data) => writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(data), Mode = (UnixFileMode)0x1A4 });
            File("oci-layout", Encoding.UTF8.GetBytes("""{"imageLayoutVersion":"1.0.0"}"""));
            foreach (var (digest, data) in blobs)
            {
                File("blobs/sha256/" + digest["sha256:".Length..], data);
            }

            File("index.json", ImageJson.Serialize(index));
            if (dockerManifest)
            {
                File("manifest.json", ImageJson.Serialize(new List<DockerArchiveEntry>
                {
                    new()
                    {
                        Config = "blobs/sha256/" + manifest.Config.Digest.Encoded,
                        RepoTags = names.Count > 0 ? [.. names] : null,
                        Layers = manifest.Layers.Select(l => "blobs/sha256/" + l.Digest.Encoded).ToList(),
                    },
                }));
            }
        }

        return stream.ToArray();
    }
}
