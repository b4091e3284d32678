using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Dashboard.Testing.Images;

/// <summary>
/// Builds a busybox OCI image layout for tests (BCL only): one gzip layer with /bin/busybox, a
/// symlink per applet (<c>bin/sh -> busybox</c>), /etc/passwd, /etc/group and /tmp; the index
/// entry is annotated <c>org.opencontainers.image.ref.name=latest</c> so umoci and skopeo can
/// address it as <c>dir:latest</c>.
/// </summary>
public static class BusyboxImage
{
    public const string BusyboxPath = "/bin/busybox";

    public static bool IsAvailable => File.Exists(BusyboxPath);

    /// <summary>Writes the layout into <paramref name="directory"/> (created) and returns the manifest digest.</summary>
    public static string CreateLayout(string directory, string refName = "latest", IReadOnlyList<string>? cmd = null)
    {
        var layer = BuildLayerTar();
        return WriteLayout(directory, [layer], refName, cmd ?? ["sh"]);
    }

    /// <summary>Writes a layout with the given uncompressed layer tars (each stored gzip-compressed).</summary>
    public static string WriteLayout(string directory, IReadOnlyList<byte[]> layerTars, string refName, IReadOnlyList<string> cmd, string user = "")
    {
        var blobs = Path.Combine(directory, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        File.WriteAllText(Path.Combine(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        var layers = new List<(string Digest, long Size)>();
        var diffIds = new List<string>();
        foreach (var tar in layerTars)
        {
            diffIds.Add(Sha(tar));
            var gz = TestTar.Gzip(tar);
            layers.Add((WriteBlob(blobs, gz), gz.Length));
        }

        var config = Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("created", "2024-01-01T00:00:00Z");
            w.WriteString("architecture", GoArch());
            w.WriteString("os", "linux");
            w.WriteStartObject("config");
            if (user.Length > 0)
            {
                w.WriteString("User", user);
            }

            w.WriteStartArray("Env");
            w.WriteStringValue("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
            w.WriteEndArray();
            w.WriteStartArray("Cmd");
            foreach (var arg in cmd)
            {
                w.WriteStringValue(arg);
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("rootfs");
            w.WriteString("type", "layers");
            w.WriteStartArray("diff_ids");
            foreach (var diffId in diffIds)
            {
                w.WriteStringValue(diffId);
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        });
        var configDigest = WriteBlob(blobs, config);
        var manifest = Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", "application/vnd.oci.image.manifest.v1+json");
            WriteDescriptor(w, "config", "application/vnd.oci.image.config.v1+json", configDigest, config.Length);
            w.WriteStartArray("layers");
            foreach (var (digest, size) in layers)
            {
                WriteDescriptor(w, null, "application/vnd.oci.image.layer.v1.tar+gzip", digest, size);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
        var manifestDigest = WriteBlob(blobs, manifest);
        var index = Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", "application/vnd.oci.image.index.v1+json");
            w.WriteStartArray("manifests");
            w.WriteStartObject();
            w.WriteString("mediaType", "application/vnd.oci.image.manifest.v1+json");
            w.WriteString("digest", manifestDigest);
            w.WriteNumber("size", manifest.Length);
            w.WriteStartObject("annotations");
            w.WriteString("org.opencontainers.image.ref.name", refName);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        });
        File.WriteAllBytes(Path.Combine(directory, "index.json"), index);
        return manifestDigest;
    }

    /// <summary>The busybox layer as an uncompressed tar.</summary>
    public static byte[] BuildLayerTar()
    {
        var time = TestTar.DefaultTime;
        using var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            void Add(TarEntry entry, int mode)
            {
                entry.Mode = (UnixFileMode)mode;
                entry.ModificationTime = time;
                writer.WriteEntry(entry);
            }

            Add(new PaxTarEntry(TarEntryType.Directory, "bin/"), 0x1ED);
            Add(new PaxTarEntry(TarEntryType.Directory, "etc/"), 0x1ED);
            Add(new PaxTarEntry(TarEntryType.Directory, "tmp/"), 0x3FF);
            Add(new PaxTarEntry(TarEntryType.Directory, "root/"), 0x1C0);
            Add(new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox") { DataStream = File.OpenRead(BusyboxPath) }, 0x1ED);
            foreach (var applet in Applets())
            {
                Add(new PaxTarEntry(TarEntryType.SymbolicLink, "bin/" + applet) { LinkName = "busybox" }, 0x1FF);
            }

            Add(new PaxTarEntry(TarEntryType.RegularFile, "etc/passwd")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes("root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")),
            }, 0x1A4);
            Add(new PaxTarEntry(TarEntryType.RegularFile, "etc/group")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes("root:x:0:\ndaemon:x:1:\nwheel:x:10:root,nobody\nnogroup:x:65534:\n")),
            }, 0x1A4);
        }

        return stream.ToArray();
    }

    /// <summary>The applet names <c>busybox --list</c> prints (without busybox itself).</summary>
    public static IReadOnlyList<string> Applets()
    {
        using var process = Process.Start(new ProcessStartInfo(BusyboxPath, "--list") { RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(a => a != "busybox" && !a.Contains('/', StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    public static string GoArch() => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        _ => "amd64",
    };

    private static void WriteDescriptor(Utf8JsonWriter w, string? property, string mediaType, string digest, long size)
    {
        if (property is null)
        {
            w.WriteStartObject();
        }
        else
        {
            w.WriteStartObject(property);
        }

        w.WriteString("mediaType", mediaType);
        w.WriteString("digest", digest);
        w.WriteNumber("size", size);
        w.WriteEndObject();
    }

    private static string WriteBlob(string blobs, byte[] data)
    {
        var digest = Sha(data);
        File.WriteAllBytes(Path.Combine(blobs, digest["sha256:".Length..]), data);
        return digest;
    }

    private static string Sha(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            write(writer);
        }

        return stream.ToArray();
    }
}
