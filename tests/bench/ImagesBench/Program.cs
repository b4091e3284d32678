using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dashboard.Images;
using Dashboard.Images.Records;
using Dashboard.Images.Rootfs;

// Driver for tests/bench/images-unpack.sh:
//   build  <layout> <megabytes>   write a multi-layer gzip OCI image (busybox + generated files), tag "bench"
//   unpack <layout> <store>        import + unpack into a fresh store; prints "import_ms unpack_ms"
//   import <layout> <store>        import only (records in <store>/records.json), for unpack-stored
//   unpack-stored <store>          unpack "bench:latest" from a store whose blobs are already there (as after a pull)
//   rootfs <layout> <store> <n>    after unpack, create and remove n overlay root filesystems; prints each creation in ms
//   phases <layout> <scratch> <n>  per layer, n rounds: inflate only, inflate + sha256, apply of the
//                                  already-inflated tar from memory into an empty directory (ms)
return args switch
{
    ["build", var layout, var mb] => Build(layout, int.Parse(mb)),
    ["unpack", var layout, var store] => await UnpackAsync(layout, store),
    ["import", var layout, var store] => await ImportOnlyAsync(layout, store),
    ["unpack-stored", var store] => await UnpackStoredAsync(store),
    ["rootfs", var layout, var store, var n] => await RootfsAsync(layout, store, int.Parse(n)),
    ["phases", var layout, var scratch, var rounds] => Phases(layout, scratch, int.Parse(rounds)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: ImagesBench build <layout> <MB> | unpack <layout> <store> | rootfs <layout> <store> <n>");
    return 2;
}

static async Task<int> UnpackAsync(string layout, string storeDir)
{
    var store = new ImageStore(new ImageStoreOptions { Root = storeDir }, new InMemoryImageRecordStore());
    var watch = Stopwatch.StartNew();
    var record = (await store.ImportAsync(layout, "bench:latest"))[0];
    var imported = watch.Elapsed;
    watch.Restart();
    await store.UnpackAsync(record);
    Console.WriteLine($"{imported.TotalMilliseconds:0.0} {watch.Elapsed.TotalMilliseconds:0.0}");
    return 0;
}

static int Phases(string layout, string scratch, int rounds)
{
    var blobs = Path.Combine(layout, "blobs", "sha256");
    var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(layout, "index.json")));
    var manifestDigest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
    var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(blobs, manifestDigest[7..])));
    var layers = manifest.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()![7..]).ToList();
    Console.WriteLine("round layer        MB   inflate  inflate+sha   apply(mem)  apply(overlay)");
    for (var round = 0; round < rounds; round++)
    {
        foreach (var layer in layers)
        {
            var blob = File.ReadAllBytes(Path.Combine(blobs, layer));
            var watch = Stopwatch.StartNew();
            var tar = new MemoryStream();
            using (var gzip = new GZipStream(new MemoryStream(blob), CompressionMode.Decompress))
            {
                gzip.CopyTo(tar, 1 << 20);
            }

            var inflate = watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            using (var gzip = new GZipStream(new MemoryStream(blob), CompressionMode.Decompress))
            using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[1 << 20];
                int n;
                while ((n = gzip.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false)) > 0)
                {
                    sha.AppendData(buffer, 0, n);
                }
            }

            var inflateHash = watch.Elapsed.TotalMilliseconds;
            var target = Path.Combine(scratch, $"apply-{round}-{layer[..8]}");
            Directory.CreateDirectory(target);
            tar.Position = 0;
            watch.Restart();
            using (var root = Dashboard.Linux.Fs.SafeRoot.Open(target))
            {
                Dashboard.Images.Layers.LayerApplier.Apply(root, tar, null);
            }

            var apply = watch.Elapsed.TotalMilliseconds;

            // The same tar applied through an overlay mount (over an empty lower), as the overlay
            // driver applies every layer after the first.
            var overlay = Path.Combine(scratch, $"overlay-{round}-{layer[..8]}");
            foreach (var dir in new[] { "lower", "upper", "work", "merged" })
            {
                Directory.CreateDirectory(Path.Combine(overlay, dir));
            }

            Dashboard.Linux.Fs.OverlayMount.Mount(Path.Combine(overlay, "merged"), [Path.Combine(overlay, "lower")], Path.Combine(overlay, "upper"), Path.Combine(overlay, "work"));
            tar.Position = 0;
            watch.Restart();
            using (var root = Dashboard.Linux.Fs.SafeRoot.Open(Path.Combine(overlay, "merged")))
            {
                Dashboard.Images.Layers.LayerApplier.Apply(root, tar, null);
            }

            var applyOverlay = watch.Elapsed.TotalMilliseconds;
            Dashboard.Linux.Fs.OverlayMount.Unmount(Path.Combine(overlay, "merged"));
            Directory.Delete(overlay, recursive: true);
            Directory.Delete(target, recursive: true);
            Console.WriteLine($"{round,5} {layer[..12]} {tar.Length / 1e6,6:0.0} {inflate,9:0.0} {inflateHash,12:0.0} {apply,12:0.0} {applyOverlay,15:0.0}");
        }
    }

    return 0;
}

static ImageStore StoreWithFileRecords(string storeDir)
{
    Directory.CreateDirectory(storeDir);
    return new ImageStore(new ImageStoreOptions { Root = storeDir }, new JsonFileImageRecordStore(Path.Combine(storeDir, "records.json")));
}

static async Task<int> ImportOnlyAsync(string layout, string storeDir)
{
    await StoreWithFileRecords(storeDir).ImportAsync(layout, "bench:latest");
    return 0;
}

static async Task<int> UnpackStoredAsync(string storeDir)
{
    var timing = Environment.GetEnvironmentVariable("DASHBOARD_IMAGES_TIMING") == "1";
    var startup = DateTime.Now - Process.GetCurrentProcess().StartTime;
    var watch = Stopwatch.StartNew();
    var store = StoreWithFileRecords(storeDir);
    var opened = watch.Elapsed;
    var record = await store.ResolveAsync("bench:latest");
    var resolved = watch.Elapsed;
    await store.UnpackAsync(record);
    Console.WriteLine($"{watch.Elapsed.TotalMilliseconds:0.0}");
    if (timing)
    {
        Console.Error.WriteLine($"bench-timing start-to-main={startup.TotalMilliseconds:0.0} open={opened.TotalMilliseconds:0.0} resolve={(resolved - opened).TotalMilliseconds:0.0} unpack={(watch.Elapsed - resolved).TotalMilliseconds:0.0}");
    }

    return 0;
}

static async Task<int> RootfsAsync(string layout, string storeDir, int n)
{
    var store = new ImageStore(new ImageStoreOptions { Root = storeDir }, new InMemoryImageRecordStore());
    var record = (await store.ImportAsync(layout, "bench:latest"))[0];
    var chainIds = await store.UnpackAsync(record);
    for (var i = 0; i < n; i++)
    {
        var watch = Stopwatch.StartNew();
        var rootfs = ContainerRootfs.Create(store.Layers, chainIds, Path.Combine(storeDir, "containers", $"c{i}"), RootfsKind.Overlay);
        var elapsed = watch.Elapsed;
        rootfs.Remove();
        Console.WriteLine($"{elapsed.TotalMilliseconds:0.000}");
    }

    return 0;
}

// Layers: busybox; many small files; medium files; a few large files. Content is base64 text of
// random bytes (gzip shrinks it to about 3/4, like typical binaries and text), so neither gzip nor
// the extractor gets a free ride from zeros.
static int Build(string layout, int megabytes)
{
    var blobs = Path.Combine(layout, "blobs", "sha256");
    Directory.CreateDirectory(blobs);
    File.WriteAllText(Path.Combine(layout, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
    var budget = (long)megabytes << 20;
    var plans = new (string Dir, int Size)[] { ("small", 8 << 10), ("medium", 256 << 10), ("large", 8 << 20) };
    var layers = new List<(byte[] Tar, string Name)> { (BusyboxTar(), "busybox") };
    foreach (var (dir, size) in plans)
    {
        var count = (int)(budget / plans.Length / size);
        layers.Add((FilesTar(dir, count, size), dir));
    }

    var diffIds = new List<string>();
    var descriptors = new List<string>();
    long total = 0;
    foreach (var (tar, _) in layers)
    {
        total += tar.Length;
        diffIds.Add("\"sha256:" + Convert.ToHexStringLower(SHA256.HashData(tar)) + "\"");
        var gz = Gzip(tar);
        var digest = Write(blobs, gz);
        descriptors.Add($$"""{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{{digest}}","size":{{gz.Length}}}""");
    }

    var arch = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "amd64";
    var config = Encoding.UTF8.GetBytes($$$"""{"architecture":"{{{arch}}}","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[{{{string.Join(',', diffIds)}}}]}}""");
    var configDigest = Write(blobs, config);
    var manifest = Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{{{configDigest}}}","size":{{{config.Length}}}},"layers":[{{{string.Join(',', descriptors)}}}]}""");
    var manifestDigest = Write(blobs, manifest);
    File.WriteAllText(Path.Combine(layout, "index.json"), $$$"""{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{{{manifestDigest}}}","size":{{{manifest.Length}}},"annotations":{"org.opencontainers.image.ref.name":"bench"}}]}""");
    Console.WriteLine(total);
    return 0;
}

static byte[] BusyboxTar()
{
    using var stream = new MemoryStream();
    using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
    {
        writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "bin/") { Mode = (UnixFileMode)0x1ED });
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox") { Mode = (UnixFileMode)0x1ED, DataStream = File.OpenRead("/bin/busybox") });
        foreach (var applet in new[] { "sh", "ls", "cat", "echo", "true", "sleep" })
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bin/" + applet) { Mode = (UnixFileMode)0x1FF, LinkName = "busybox" });
        }
    }

    return stream.ToArray();
}

static byte[] FilesTar(string dir, int count, int size)
{
    using var stream = new MemoryStream();
    var random = new Random(size);
    using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
    {
        writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, dir + "/") { Mode = (UnixFileMode)0x1ED });
        for (var i = 0; i < count; i++)
        {
            if (i % 100 == 0)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, $"{dir}/d{i / 100}/") { Mode = (UnixFileMode)0x1ED });
            }

            var raw = new byte[size * 3 / 4];
            random.NextBytes(raw);
            var text = Encoding.ASCII.GetBytes(Convert.ToBase64String(raw));
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"{dir}/d{i / 100}/f{i}") { Mode = (UnixFileMode)0x1A4, DataStream = new MemoryStream(text) });
        }
    }

    return stream.ToArray();
}

static byte[] Gzip(byte[] data)
{
    using var output = new MemoryStream();
    using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
    {
        gzip.Write(data);
    }

    return output.ToArray();
}

static string Write(string blobs, byte[] data)
{
    var hex = Convert.ToHexStringLower(SHA256.HashData(data));
    File.WriteAllBytes(Path.Combine(blobs, hex), data);
    return hex;
}
