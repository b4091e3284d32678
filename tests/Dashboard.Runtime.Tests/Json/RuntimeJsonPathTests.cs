using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dashboard.Oci.Runtime;
using Dashboard.Runtime.Init;

namespace Dashboard.Runtime.Tests.Json;

/// <summary>
/// The hand-written JSON of the create path (state.json, the init config message, config.json
/// through <see cref="Container.LoadBundleSpec"/>) against the source-generated serializer it replaced.
/// </summary>
public sealed class RuntimeJsonPathTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dashboard-specreader-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ContainerRecord SampleRecord(string? cgroupsPath) => new()
    {
        Id = "box-1",
        Bundle = "/srv/bundles/é \"quoted\" <b>",
        Rootfs = "/srv/bundles/box/rootfs",
        Pid = 4242,
        PidStartTime = ulong.MaxValue,
        Created = new DateTimeOffset(2026, 11, 30, 22, 41, 7, 123, TimeSpan.Zero).AddTicks(4567),
        CgroupsPath = cgroupsPath,
        CgroupPaths = new() { ["memory"] = "/sys/fs/cgroup/memory/dashboard/box-1", [""] = "/sys/fs/cgroup/unified/dashboard/box-1" },
        Owner = "root",
    };

    [Theory]
    [InlineData(null)]
    [InlineData("/dashboard/box-1")]
    public void ContainerRecordJson_Write_IsByteIdenticalToSerializer(string? cgroupsPath)
    {
        var record = SampleRecord(cgroupsPath);
        var expected = JsonSerializer.SerializeToUtf8Bytes(record, OldJsonContext.Default.ContainerRecord);
        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(ContainerRecordJson.Write(record)));
    }

    public static TheoryData<string, long> Escapes => new()
    {
        { "plain/ascii_path-1.2~x", 0 },
        { "\u0000\u0001\b\t\n\u000b\f\r\u001f \"&'+<>\\`\u007f\u0080é\u00ff\u2028\u2029\uffff", 1 },
        { "emoji \ud83d\ude00 and a lone \ud83d surrogate", 1_230_000 },
        { "~!@#$%^*()_=[]{}|;:,./?", 9_999_999 },
        { "", 10_000 },
    };

    [Theory]
    [MemberData(nameof(Escapes))]
    public void ContainerRecordJson_Write_EscapesAndTimesLikeSerializer(string text, long fractionTicks)
    {
        var record = SampleRecord("/p/" + text);
        record.Bundle = text;
        record.Owner = text;
        record.Created = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(-5.5)).AddTicks(fractionTicks);
        record.CgroupPaths = new() { [text] = text, ["null"] = null! };
        var expected = JsonSerializer.SerializeToUtf8Bytes(record, OldJsonContext.Default.ContainerRecord);
        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(ContainerRecordJson.Write(record)));
    }

    [Fact]
    public void ContainerRecordJson_Read_MatchesSerializerAndSkipsUnknown()
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(SampleRecord("/x"), OldJsonContext.Default.ContainerRecord);
        var withUnknown = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(bytes).Replace("{\"id\"", "{\"future\":{\"a\":[1]},\"started\":true,\"id\"", StringComparison.Ordinal));
        foreach (var input in new[] { bytes, withUnknown })
        {
            var old = JsonSerializer.Deserialize(input, OldJsonContext.Default.ContainerRecord)!;
            var read = ContainerRecordJson.Read(input)!;
            Assert.Equal(
                JsonSerializer.Serialize(old, OldJsonContext.Default.ContainerRecord),
                JsonSerializer.Serialize(read, OldJsonContext.Default.ContainerRecord));
        }

        Assert.ThrowsAny<JsonException>(() => ContainerRecordJson.Read("{\"pid\":\"1\"}"u8));
        Assert.ThrowsAny<JsonException>(() => ContainerRecordJson.Read("{\"id\":\"a\""u8));
    }

    [Fact]
    public void StateStore_SaveLoad_RoundTrips()
    {
        var store = new StateStore(_dir);
        store.Reserve("box-1");
        store.Save(SampleRecord(null));
        Assert.Equal(
            JsonSerializer.Serialize(SampleRecord(null), OldJsonContext.Default.ContainerRecord),
            JsonSerializer.Serialize(store.Load("box-1"), OldJsonContext.Default.ContainerRecord));
    }

    [Fact]
    public void InitMessageJson_ConfigMessage_RoundTripsLikeSerializer()
    {
        var spec = DefaultSpec.Create();
        spec.Process!.Args = ["/bin/sh", "-c", "echo \"é\""];
        spec.Annotations = new() { ["run.dashboard.init"] = "true" };
        spec.Linux!.Seccomp = new Oci.Runtime.Seccomp
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            Syscalls = [new SeccompSyscall { Names = ["read"], Action = "SCMP_ACT_ALLOW", Args = [new SeccompArg { Index = 1, Value = ulong.MaxValue, Op = "SCMP_CMP_EQ" }] }],
        };
        var message = new InitMessage
        {
            Type = "config",
            Config = new InitConfig
            {
                Mode = "create",
                Id = "box-1",
                Bundle = "/b",
                Rootfs = "/b/rootfs",
                Spec = spec,
                HostPid = 77,
                NoPivot = true,
                NoNewKeyring = true,
                PreserveFds = 2,
                ConsoleSocketFd = 9,
                FifoFd = 8,
                NewCgroupNamespace = true,
                NewTimeNamespace = true,
                UserNamespace = true,
                CgroupPaths = new() { ["memory"] = "/sys/fs/cgroup/memory/x", [""] = "/sys/fs/cgroup/unified/x" },
                ParentHooks = true,
                JoinNamespaces = new() { ["network"] = 11, ["uts"] = 12 },
                MountFds = new() { [0] = 13, [5] = 14 },
                NoOpenat2 = true,
                NoMountSetattr = true,
            },
        };
        var expected = JsonSerializer.Serialize(message, OldJsonContext.Default.InitMessage);
        var written = InitMessageJson.Write(message);
        Assert.Equal(expected, JsonSerializer.Serialize(InitMessageJson.Read(written), OldJsonContext.Default.InitMessage));
        Assert.Equal(expected, JsonSerializer.Serialize(InitMessageJson.Read(Encoding.UTF8.GetBytes(expected)), OldJsonContext.Default.InitMessage));
        Assert.Equal(expected, JsonSerializer.Serialize(JsonSerializer.Deserialize(written, OldJsonContext.Default.InitMessage), OldJsonContext.Default.InitMessage));
    }

    [Fact]
    public void InitChannel_ConfigOverSocket_ArrivesWhole()
    {
        var (a, b) = Linux.Native.Sys.SocketPair(Linux.Native.Sys.SOCK_STREAM);
        try
        {
            var spec = DefaultSpec.Create();
            InitChannel.Send(a, new InitMessage { Type = "config", Config = new InitConfig { Id = "x", Spec = spec, MountFds = new() { [3] = 4 } } });
            var received = InitChannel.Receive(b)!;
            Assert.Equal("config", received.Type);
            Assert.Equal("x", received.Config!.Id);
            Assert.Equal(4, received.Config.MountFds[3]);
            Assert.Equal(RuntimeJson.Serialize(spec), RuntimeJson.Serialize(received.Config.Spec));
        }
        finally
        {
            Linux.Native.Sys.Close(a);
            Linux.Native.Sys.Close(b);
        }
    }

    [Theory]
    [InlineData("""{"ociVersion":"1.2.0","process":{"user":{"uid":"0"}}}""", "config.json: process.user.uid: expected an unsigned 32-bit integer, found a string")]
    [InlineData("""{"ociVersion":"1.2.0","process":{"args":["a"],"args":["b"]}}""", "config.json: process.args: duplicate property")]
    [InlineData("""{"ociVersion":"1.2.0","mounts":[{"destination":"/x","options":[1]}]}""", "config.json: mounts[0].options[0]: expected a string, found a number")]
    [InlineData("""{"ociVersion":"1.2.0",""", "config.json: ")]
    public void LoadBundleSpec_BadConfig_IsInvalidSpecNamingTheField(string json, string message)
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), json);
        var e = Assert.Throws<RuntimeException>(() => Container.LoadBundleSpec(_dir));
        Assert.Equal(ErrorKind.InvalidSpec, e.Kind);
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2.0.0")]
    [InlineData("1.4.0")]
    [InlineData("one")]
    public void LoadBundleSpec_UnknownVersion_ValidatorRejects(string version)
    {
        Directory.CreateDirectory(Path.Combine(_dir, "rootfs"));
        File.WriteAllText(Path.Combine(_dir, "config.json"), $$$"""{"ociVersion":"{{{version}}}","root":{"path":"rootfs"}}""");
        var spec = Container.LoadBundleSpec(_dir);
        var e = Assert.Throws<RuntimeException>(() => SpecValidator.Validate(spec, _dir));
        Assert.Equal(ErrorKind.InvalidSpec, e.Kind);
        Assert.Contains($"unsupported spec version \"{version}\"", e.Message, StringComparison.Ordinal);
    }
}

/// <summary>The serializer contexts the hand-written code replaced, with their options, as the reference.</summary>
[JsonSourceGenerationOptions(WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContainerRecord))]
[JsonSerializable(typeof(InitMessage))]
internal sealed partial class OldJsonContext : JsonSerializerContext;
