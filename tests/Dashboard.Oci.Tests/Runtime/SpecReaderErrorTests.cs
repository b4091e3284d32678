using System.Text;
using System.Text.Json;
using Dashboard.Oci.Runtime;
using static Dashboard.Oci.Tests.Runtime.SpecCorpus;

namespace Dashboard.Oci.Tests.Runtime;

/// <summary>SpecReader's errors: the serializer rejects the same documents; SpecReader's message names the path.</summary>
public sealed class SpecReaderErrorTests
{
    [Theory]
    [InlineData("""{"ociVersion": 1}""", "ociVersion: expected a string, found a number", "$.ociVersion")]
    [InlineData("""{"process":{"user":{"uid":"0"}}}""", "process.user.uid: expected an unsigned 32-bit integer, found a string", "$.process.user.uid")]
    [InlineData("""{"process":{"user":{"uid":-1}}}""", "process.user.uid: expected an unsigned 32-bit integer, found a number", "$.process.user.uid")]
    [InlineData("""{"process":{"user":{"uid":1.0}}}""", "process.user.uid: expected an unsigned 32-bit integer, found a number", "$.process.user.uid")]
    [InlineData("""{"process":{"user":{"uid":4294967296}}}""", "process.user.uid: expected an unsigned 32-bit integer, found a number", "$.process.user.uid")]
    [InlineData("""{"process":{"terminal":"yes"}}""", "process.terminal: expected true or false, found a string", "$.process.terminal")]
    [InlineData("""{"process":{"rlimits":{"type":"RLIMIT_NOFILE"}}}""", "process.rlimits: expected an array, found an object", "$.process.rlimits")]
    [InlineData("""{"mounts":[{"destination":"/a"},{"destination":"/b","options":["ro",5]}]}""", "mounts[1].options[1]: expected a string, found a number", "$.mounts[1].options[1]")]
    [InlineData("""{"linux":{"sysctl":{"net.ipv4.ip_forward":1}}}""", "linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string, found a number", "$.linux.sysctl[\"net.ipv4.ip_forward\"]")]
    [InlineData("""{"linux":{"resources":{"blockIO":{"weight":65536}}}}""", "linux.resources.blockIO.weight: expected an unsigned 16-bit integer, found a number", "$.linux.resources.blockIO.weight")]
    [InlineData("""{"linux":{"seccomp":{"syscalls":[{"names":["read"],"args":[{"index":0,"value":-1}]}]}}}""", "linux.seccomp.syscalls[0].args[0].value: expected an unsigned 64-bit integer, found a number", "$.linux.seccomp.syscalls[0].args[0].value")]
    [InlineData("""{"linux":{"netDevices":{"eth0":{"name":23}}}}""", "linux.netDevices[\"eth0\"].name: expected a string, found a number", "$.linux.netDevices[\"eth0\"].name")]
    [InlineData("""{"process":{"args":["a"],"args":["b"]}}""", "process.args: duplicate property", "$.process.args")]
    [InlineData("""{"ociVersion":"1.0.0","oci\u0056ersion":"1.2.0"}""", "ociVersion: duplicate property", "$.ociVersion")]
    [InlineData("""{"annotations":{"a":"1","a":"2"}}""", "annotations[\"a\"]: duplicate key", "$.annotations[\"a\"]")]
    [InlineData("""[]""", "expected an object, found an array", "$")]
    [InlineData("""null""", "config.json is null", "$")]
    public void ReadSpec_BadValue_BothRejectAndMessageNamesPath(string json, string message, string path)
    {
        var (oldError, newError, _, _) = Both(Utf8(json));
        Assert.NotNull(oldError);
        var e = Assert.IsType<JsonException>(newError);
        Assert.Equal(message, e.Message);
        Assert.Equal(path, e.Path);
    }

    [Theory]
    [InlineData("""{]""", "")]
    [InlineData("""{"process":{"args":["a",]}}""", "process.args")]
    [InlineData("""{"hostname":"a"} {}""", "")]
    [InlineData("""{/* comment */"hostname":"a"}""", "")]
    [InlineData("""{"hostname":"a\x"}""", "hostname")]
    [InlineData("""{"hostname":"a""", "hostname")]
    [InlineData("""{"process":{"env":["A=1" "B=2"]}}""", "process.env")]
    [InlineData("", "")]
    public void ReadSpec_MalformedJson_BothRejectWithPosition(string json, string pathPrefix)
    {
        var (oldError, newError, _, _) = Both(Utf8(json));
        Assert.NotNull(oldError);
        Assert.NotNull(newError);
        Assert.StartsWith(pathPrefix, newError.Message, StringComparison.Ordinal);
        Assert.Contains("BytePositionInLine", newError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadSpec_InvalidUtf8InString_BothReject()
    {
        byte[] json = [.. "{\"hostname\":\""u8, 0xff, 0xfe, .. "\"}"u8];
        var (oldError, newError, _, _) = Both(json);
        Assert.NotNull(oldError);
        Assert.NotNull(newError);
        Assert.StartsWith("hostname", newError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadSpec_NestingDeeperThan64_BothReject()
    {
        var json = "{\"x-unknown\":" + new string('[', 70) + new string(']', 70) + "}";
        var (oldError, newError, _, _) = Both(Utf8(json));
        Assert.NotNull(oldError);
        Assert.NotNull(newError);
        Assert.StartsWith("x-unknown", newError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadSpec_NullWhereTheModelHasNone_RejectedNamingTheField()
    {
        // The serializer stored these nulls in non-nullable properties (and the runtime then failed
        // on them later, or not at all); the schema says each must be a string or object.
        foreach (var (json, message) in new[]
        {
            ("""{"root":{"path":null}}""", "root.path: expected a string, found null"),
            ("""{"process":{"user":null}}""", "process.user: expected an object, found null"),
            ("""{"process":{"args":["sh",null]}}""", "process.args[1]: expected a string, found null"),
            ("""{"annotations":{"a":null}}""", "annotations[\"a\"]: expected a string, found null"),
            ("""{"linux":{"seccomp":{"syscalls":[{"names":null}]}}}""", "linux.seccomp.syscalls[0].names: expected an array, found null"),
        })
        {
            Assert.NotNull(OldParse(Utf8(json)));
            var e = Assert.Throws<JsonException>(() => SpecReader.ReadSpec(Utf8(json)));
            Assert.Equal(message, e.Message);
        }
    }

    [Fact]
    public void ReadSpec_DuplicateUnknownProperty_TreatedLikeSerializer()
    {
        var json = Utf8("""{"ociVersion":"1.2.0","x-unknown":1,"x-unknown":2}""");
        var (oldError, newError, oldGraph, newGraph) = Both(json);
        Assert.Equal(oldError is null, newError is null);
        Assert.Equal(oldGraph, newGraph);
    }

    [Fact]
    public void ReadSpec_NullableFieldsNull_ReadAsNull()
    {
        var spec = SpecReader.ReadSpec(Utf8("""{"ociVersion":"1.2.0","process":null,"root":null,"hostname":null,"mounts":null,"linux":{"resources":{"memory":{"limit":null,"swappiness":null,"disableOOMKiller":null}}}}"""));
        Assert.Null(spec.Process);
        Assert.Null(spec.Root);
        Assert.Null(spec.Hostname);
        Assert.Null(spec.Mounts);
        Assert.Null(spec.Linux!.Resources!.Memory!.Limit);
        Assert.Null(spec.Linux.Resources.Memory.DisableOomKiller);
    }

    [Fact]
    public void ParseProcess_WrongType_NamesPathInsideTheDocument()
    {
        var e = Assert.Throws<JsonException>(() => RuntimeJson.ParseProcess("""{"args":["sh"],"user":{"uid":0,"additionalGids":[1,"2"]}}"""));
        Assert.Equal("user.additionalGids[1]: expected an unsigned 32-bit integer, found a string", e.Message);
        Assert.Throws<JsonException>(() => RuntimeJson.ParseResources("""{"pids":{"limit":"max"}}"""));
        Assert.Equal("process.json is null", Assert.Throws<JsonException>(() => RuntimeJson.ParseProcess("null")).Message);
    }

    [Fact]
    public void ParseSpec_String_SameAsBytes()
    {
        Assert.Equal(Canonical(SpecReader.ReadSpec(Encoding.UTF8.GetBytes(KitchenSink))), Canonical(RuntimeJson.ParseSpec(KitchenSink)));
    }
}
