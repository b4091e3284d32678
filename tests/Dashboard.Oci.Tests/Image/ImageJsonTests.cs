using System.Text;
using Dashboard.Oci.Image;

namespace Dashboard.Oci.Tests.Image;

public sealed class ImageJsonTests
{
    private const string D1 = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
    private const string D2 = "sha256:0000000000000000000000000000000000000000000000000000000000000002";

    private static readonly string s_manifest = $$$"""
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
         "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{{D1}}}","size":10},
         "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{{{D2}}}","size":20}]}
        """;

    [Fact]
    public void ParseDocument_Manifest_ReturnsManifest()
    {
        var document = ImageJson.ParseDocument(Encoding.UTF8.GetBytes(s_manifest));
        Assert.NotNull(document.Manifest);
        Assert.Equal(MediaTypes.OciManifest, document.MediaType);
        Assert.Equal(D2, document.Manifest.Layers[0].Digest.ToString());
        Assert.Equal(20, document.Manifest.Layers[0].Size);
    }

    [Fact]
    public void ParseDocument_Index_ReturnsIndexWithPlatforms()
    {
        var json = $$$"""
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[
              {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"{{{D1}}}","size":1,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
              {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"{{{D2}}}","size":1,"platform":{"architecture":"amd64","os":"linux"}}]}
            """;
        var document = ImageJson.ParseDocument(Encoding.UTF8.GetBytes(json));
        Assert.NotNull(document.Index);
        Assert.Equal("arm64", document.Index.Manifests[0].Platform!.Architecture);
        Assert.Equal("v8", document.Index.Manifests[0].Platform!.Variant);
    }

    public static TheoryData<string, string> BadDocuments => new()
    {
        { "ambiguous", $$$"""{"schemaVersion":2,"manifests":[],"layers":[]}""" },
        { "ambiguous", $$$"""{"schemaVersion":2,"manifests":[],"config":{"mediaType":"x","digest":"{{{D1}}}","size":1}}""" },
        { "schema 1", """{"schemaVersion":1,"name":"x","tag":"latest","fsLayers":[]}""" },
        { "schema 1", """{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws","layers":[]}""" },
        { "duplicate", $$$"""{"schemaVersion":2,"layers":[],"layers":[],"config":{"mediaType":"x","digest":"{{{D1}}}","size":1}}""" },
        { "digest", """{"schemaVersion":2,"layers":[],"config":{"mediaType":"x","digest":"sha256:../../etc/passwd","size":1}}""" },
        { "number", $$$"""{"schemaVersion":2,"layers":[],"config":{"mediaType":"x","digest":"{{{D1}}}","size":"1"}}""" },
        { "negative", $$$"""{"schemaVersion":2,"layers":[],"config":{"mediaType":"x","digest":"{{{D1}}}","size":-1}}""" },
        { "null", "null" },
        { "neither", """{"schemaVersion":2}""" },
        { "media type", $$$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","layers":[],"config":{"mediaType":"x","digest":"{{{D1}}}","size":1}}""" },
    };

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public void ParseDocument_BadDocument_Rejected(string kind, string json)
    {
        var e = Assert.Throws<ImageDocumentException>(() => ImageJson.ParseDocument(Encoding.UTF8.GetBytes(json)));
        Assert.False(string.IsNullOrEmpty(e.Message), kind);
    }

    [Fact]
    public void ParseDocument_ContentTypeMismatch_Rejected()
    {
        Assert.Throws<ImageDocumentException>(() => ImageJson.ParseDocument(Encoding.UTF8.GetBytes(s_manifest), MediaTypes.DockerManifest));
    }

    [Fact]
    public void ParseDocument_Oversized_Rejected()
    {
        var big = new byte[ImageJson.MaxDocumentSize + 1];
        Assert.Throws<ImageDocumentException>(() => ImageJson.ParseDocument(big));
    }

    [Fact]
    public void ParseConfig_DockerFields_Read()
    {
        var json = $$$"""
            {"architecture":"amd64","os":"linux","created":"2024-01-02T03:04:05.123456789Z",
             "config":{"User":"nobody","Env":["PATH=/bin"],"Cmd":["sh"],"ExposedPorts":{"80/tcp":{}},"Volumes":{"/data":{}},
                       "WorkingDir":"/w","StopSignal":"SIGTERM","Healthcheck":{"Test":["CMD","true"],"Interval":1000000000}},
             "rootfs":{"type":"layers","diff_ids":["{{{D1}}}"]},"history":[{"created_by":"x","empty_layer":true}]}
            """;
        var config = ImageJson.ParseConfig(Encoding.UTF8.GetBytes(json));
        Assert.Equal("nobody", config.Config!.User);
        Assert.Contains("80/tcp", config.Config.ExposedPorts!.Keys);
        Assert.Contains("/data", config.Config.Volumes!.Keys);
        Assert.Equal(1_000_000_000, config.Config.Healthcheck!.Interval);
        Assert.Equal(D1, config.RootFs.DiffIds[0].ToString());
        Assert.Equal("2024-01-02T03:04:05.123456789Z", config.Created);
    }

    [Fact]
    public void Serialize_Manifest_RoundTrips()
    {
        var manifest = ImageJson.ParseManifest(Encoding.UTF8.GetBytes(s_manifest));
        var again = ImageJson.ParseManifest(ImageJson.Serialize(manifest));
        Assert.Equal(manifest.Layers[0].Digest, again.Layers[0].Digest);
        Assert.DoesNotContain("\"urls\"", Encoding.UTF8.GetString(ImageJson.Serialize(manifest)), StringComparison.Ordinal);
    }

    [Fact]
    public void Platform_Accepts_VariantOptional()
    {
        var arm = new Platform { Os = "linux", Architecture = "arm64", Variant = "v8" };
        Assert.True(arm.Accepts(new Platform { Os = "linux", Architecture = "arm64" }));
        Assert.False(arm.Accepts(new Platform { Os = "linux", Architecture = "amd64" }));
        Assert.False(arm.Accepts(new Platform { Os = "windows", Architecture = "arm64" }));
        Assert.Equal("linux/arm/v7", Platform.Parse("linux/arm/v7").ToString());
    }
}
