using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Dashboard.Engine.Api;
using Dashboard.Engine.Containers;
using Dashboard.Engine.Exec;
using Dashboard.Engine.Networking;
using Dashboard.Engine.Policy;
using Dashboard.Engine.Volumes;

namespace Dashboard.Engine.Tests.Api;

/// <summary>
/// The engine's JSON goes through <see cref="EngineJsonContext"/> only (no reflection, for NativeAOT), and writes and
/// parses exactly as the reflection-based serializer did with the same options: each comparison computes the old
/// behaviour with a <see cref="DefaultJsonTypeInfoResolver"/> copy of the options.
/// </summary>
public sealed class EngineJsonContextTests
{
    private static readonly Type[] s_roots = [.. typeof(EngineJsonContext).GetCustomAttributesData()
        .Where(a => a.AttributeType == typeof(JsonSerializableAttribute))
        .Select(a => (Type)a.ConstructorArguments[0].Value!)];

    private static readonly string[] s_modelNamespaces =
    [
        "Dashboard.Engine.Api", "Dashboard.Engine.Exec", "Dashboard.Engine.Images", "Dashboard.Engine.Networking",
        "Dashboard.Engine.Volumes", "Dashboard.Engine.Containers", "Dashboard.Engine.Archive",
    ];

    private static readonly string[] s_modelSuffixes = ["View", "Body", "Response", "Message"];

    public static TheoryData<string> OptionSets => ["Options", "Storage", "Plain", "Policy"];

    public static TheoryData<string, string> RootsByOptions()
    {
        var data = new TheoryData<string, string>();
        foreach (var set in new[] { "Options", "Storage" })
        {
            foreach (var root in s_roots)
            {
                data.Add(root.ToString(), set);
            }
        }

        return data;
    }

    private static JsonSerializerOptions Named(string name) => name switch
    {
        "Options" => DockerJson.Options,
        "Storage" => DockerJson.Storage,
        "Plain" => DockerJson.Plain,
        "Policy" => EnginePolicy.JsonOptions,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static JsonSerializerOptions Reflection(JsonSerializerOptions options) => new(options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    private static JsonSerializerOptions Generated(JsonSerializerOptions options) => new(options) { TypeInfoResolver = EngineJsonContext.Default };

    [Theory]
    [MemberData(nameof(OptionSets))]
    public void Options_Resolver_IsTheContextOnly(string set) =>
        Assert.IsType<EngineJsonContext>(Named(set).TypeInfoResolver);

    [Fact]
    public void Info_TypeOutsideTheContext_ThrowsInsteadOfReflecting() =>
        Assert.Throws<NotSupportedException>(() => DockerJson.Info<Uri>(DockerJson.Options));

    [Fact]
    public void Context_ApiModels_AllHaveContracts()
    {
        var models = typeof(DockerJson).Assembly.GetExportedTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false, IsGenericTypeDefinition: false }
                && s_modelNamespaces.Contains(t.Namespace)
                && s_modelSuffixes.Any(s => t.Name.EndsWith(s, StringComparison.Ordinal)))
            .ToList();
        Assert.NotEmpty(models);
        var missing = models.Where(t => EngineJsonContext.Default.GetTypeInfo(t) is null).Select(t => t.FullName).ToList();
        Assert.Empty(missing);
    }

    /// <summary>
    /// Every type the engine's source names in <c>Info&lt;T&gt;</c> or <c>ReadBodyAsync&lt;T&gt;</c> has a contract in the
    /// context: a missing one still compiles and throws NotSupportedException only when that line runs.
    /// </summary>
    [Fact]
    public void Context_EveryTypeNamedInInfoOrReadBody_HasAContract()
    {
        var uses = JsonContractUses.Scan(Path.Combine(Store.MigrationTests.RepoRoot(), "src", "Dashboard.Engine"));
        Assert.Contains(uses, u => u.Text == "ContainerCreateBody" && u.Type == typeof(ContainerCreateBody));
        Assert.Contains(uses, u => u.Text == "ContainerWaitResponse" && u.Type == typeof(ContainerWaitResponse));
        Assert.Empty(uses.Where(u => u.Type is null).Select(u => $"{u.File}:{u.Line}: {u.Text} names no type"));
        Assert.Empty(uses.Where(u => EngineJsonContext.Default.GetTypeInfo(u.Type!) is null).Select(u => $"{u.File}:{u.Line}: {u.Text}"));
    }

    [Theory]
    [MemberData(nameof(RootsByOptions))]
    public void Root_EveryMemberSet_WritesAndReadsLikeReflection(string type, string set)
    {
        var root = s_roots.Single(t => t.ToString() == type);
        var options = Named(set);
        var value = Fill(root, 0);

        var expected = JsonSerializer.Serialize(value, root, Reflection(options));
        var actual = JsonSerializer.Serialize(value, options.GetTypeInfo(root));
        Assert.Equal(expected, actual);
        foreach (var property in options.GetTypeInfo(root).Properties.Where(p => p.Get is not null))
        {
            Assert.Contains($"\"{property.Name}\":", expected, StringComparison.Ordinal);
        }

        var parsedOld = Outcome(() => JsonSerializer.Serialize(JsonSerializer.Deserialize(expected, root, Reflection(options)), root, Reflection(options)));
        var parsedNew = Outcome(() => JsonSerializer.Serialize(JsonSerializer.Deserialize(expected, options.GetTypeInfo(root)), options.GetTypeInfo(root)));
        Assert.Equal(parsedOld, parsedNew);
    }

    [Theory]
    [InlineData("""{"Image":"busybox","image":"alpine"}""")]
    [InlineData("""{"Image":"busybox","Cmd":"sh -c true","Entrypoint":["/bin/sh","-c"],"Healthcheck":{"Test":["CMD","true"],"Interval":1000000000}}""")]
    [InlineData("""{"Image":"busybox","Cmd":5}""")]
    [InlineData("""{"Image":"busybox","Cmd":["a",1]}""")]
    [InlineData("""{"Image":"busybox","HostConfig":{"Memory":"1024"}}""")]
    [InlineData("""{"Image":"busybox","HostConfig":{"Memory":1.5}}""")]
    [InlineData("""{"Image":"busybox",}""")]
    [InlineData("""{"Image":"busybox" /* comment */}""")]
    [InlineData("""{"image":"busybox","hostconfig":{"binds":["/a:/b"],"PORTBINDINGS":{"80/tcp":[{"HostPort":"8080"}]}},"NetworkingConfig":{"EndpointsConfig":{"n":{}}}}""")]
    [InlineData("""[1]""")]
    [InlineData("""null""")]
    public void ContainerCreateBody_Parse_SameResultAndErrorAsReflection(string json) =>
        AssertParsesAlike<ContainerCreateBody>(json, DockerJson.Options);

    [Theory]
    [InlineData("""{"AttachStdout":true,"Cmd":"echo hi","Env":["A=1"],"User":"nobody","WorkingDir":"/tmp","Tty":true}""")]
    [InlineData("""{"Cmd":["sh"],"cmd":["sh"]}""")]
    [InlineData("""{"Cmd":["sh"],"Privileged":"yes"}""")]
    public void ExecCreateBody_Parse_SameResultAndErrorAsReflection(string json) =>
        AssertParsesAlike<ExecCreateBody>(json, DockerJson.Options);

    [Theory]
    [InlineData("""{"Name":"n1","Driver":"bridge","Labels":{"a":"b"},"IPAM":{"Config":[{"Subnet":"10.9.0.0/24","Gateway":"10.9.0.1"}]}}""")]
    [InlineData("""{"Name":"n1","name":"n2"}""")]
    public void NetworkCreateBody_Parse_SameResultAndErrorAsReflection(string json) =>
        AssertParsesAlike<NetworkCreateBody>(json, DockerJson.Options);

    [Theory]
    [InlineData("""{"Name":"v1","Driver":"local","DriverOpts":{"o":"bind"},"Labels":{"a":"b"}}""")]
    [InlineData("""{"Name":1}""")]
    public void VolumeCreateBody_Parse_SameResultAndErrorAsReflection(string json) =>
        AssertParsesAlike<VolumeCreateBody>(json, DockerJson.Options);

    [Theory]
    [InlineData("""{"Status":"healthy","FailingStreak":0,"Log":[{"Start":"2026-01-02T03:04:05Z","End":"2026-01-02T03:04:06Z","ExitCode":0,"Output":"ok"}],"StartedAt":"2026-01-02T03:04:00Z"}""")]
    [InlineData("""{"Status":"starting","FailingStreak":"1"}""")]
    public void HealthStateFile_Parse_SameResultAndErrorAsReflection(string json) =>
        AssertParsesAlike<HealthStateFile>(json, DockerJson.Storage);

    [Theory]
    [InlineData("""{"privileged":true,"hostNamespaces":["network"],"bindMountPrefixes":["/srv"],"devices":false,"capabilities":["CAP_CHOWN"],"seccompProfiles":true,"sysctls":["net.*"]}""")]
    [InlineData("""{"privileged":true,"unknown":1}""")]
    [InlineData("""{"Privileged":true}""")]
    [InlineData("""{"privileged":true,"privileged":false}""")]
    [InlineData("{\"privileged\":true // allowed here\n}")]
    public void EnginePolicy_Parse_SameResultAndErrorAsReflection(string json) =>
        AssertParsesAlike<EnginePolicy>(json, EnginePolicy.JsonOptions);

    [Fact]
    public void ContainerNetworkState_WithCniResult_RoundTripsLikeReflection()
    {
        var state = new ContainerNetworkState { Mode = "bridge" };
        state.Ports.Add(new PortMapping("0.0.0.0", 8080, 80, "tcp"));
        state.Endpoints.Add(new Endpoint
        {
            NetworkName = "bridge",
            NetworkId = "abc",
            EndpointId = "e1",
            Aliases = ["web"],
            Attached = new Attachment
            {
                IfName = "eth0",
                IpAddress = "172.17.0.2",
                PrefixLen = 16,
                Plugins = [(JsonObject)JsonNode.Parse("""{"type":"bridge","ipam":{"type":"host-local","ranges":[[{"subnet":"172.17.0.0/16"}]]}}""")!],
                Result = (JsonObject)JsonNode.Parse("""{"cniVersion":"1.0.0","ips":[{"address":"172.17.0.2/16","interface":0}],"interfaces":[{"name":"eth0","mac":"aa:bb"}]}""")!,
            },
        });
        var json = JsonSerializer.Serialize(state, Reflection(DockerJson.Storage));
        Assert.Equal(json, JsonSerializer.Serialize(state, DockerJson.Info<ContainerNetworkState>(DockerJson.Storage)));
        AssertParsesAlike<ContainerNetworkState>(json, DockerJson.Storage);
    }

    [Fact]
    public void SystemInfo_ObjectValues_WrittenAsTheirRunTimeTypes()
    {
        var version = SystemEndpoints.Version();
        Assert.Equal(
            JsonSerializer.Serialize(version, Reflection(DockerJson.Options)),
            JsonSerializer.Serialize(version, DockerJson.Info<Dictionary<string, object?>>(DockerJson.Options)));
        var info = new Dictionary<string, object?>
        {
            ["Containers"] = 3,
            ["MemTotal"] = 1L << 33,
            ["Debug"] = false,
            ["Name"] = "host",
            ["DriverStatus"] = Array.Empty<string[]>(),
            ["Plugins"] = new Dictionary<string, string[]> { ["Volume"] = ["local"] },
            ["Swarm"] = new Dictionary<string, object> { ["RemoteManagers"] = Array.Empty<object>(), ["ControlAvailable"] = false },
            ["Runtimes"] = new Dictionary<string, object> { ["r"] = new Dictionary<string, string> { ["path"] = "/bin/r" } },
            ["Warnings"] = null,
            ["Height"] = (ushort)24,
        };
        Assert.Equal(
            JsonSerializer.Serialize(info, Reflection(DockerJson.Options)),
            JsonSerializer.Serialize(info, DockerJson.Info<Dictionary<string, object?>>(DockerJson.Options)));
    }

    private static void AssertParsesAlike<T>(string json, JsonSerializerOptions options)
    {
        var old = Outcome(() => JsonSerializer.Serialize(JsonSerializer.Deserialize<T>(json, Reflection(options)), Reflection(options)));
        var generated = Outcome(() => JsonSerializer.Serialize(JsonSerializer.Deserialize(json, DockerJson.Info<T>(Generated(options)))!, DockerJson.Info<T>(Generated(options))));
        Assert.Equal(old, generated);
    }

    private static string Outcome(Func<string> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    /// <summary>A value of <paramref name="type"/> with every settable member set (collections hold one item), to compare whole documents.</summary>
    private static object? Fill(Type type, int depth)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Fill(underlying, depth);
        }

        if (type == typeof(string) || type == typeof(object))
        {
            return $"s{depth}";
        }

        if (type == typeof(bool))
        {
            return true;
        }

        if (type.IsEnum)
        {
            var values = Enum.GetValues(type);
            return values.GetValue(values.Length - 1);
        }

        if (type.IsPrimitive || type == typeof(decimal))
        {
            return Convert.ChangeType(7 + depth, type, System.Globalization.CultureInfo.InvariantCulture);
        }

        if (type == typeof(DateTimeOffset))
        {
            return new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        }

        if (type == typeof(DateTime))
        {
            return new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        }

        if (type == typeof(TimeSpan))
        {
            return TimeSpan.FromSeconds(90);
        }

        if (type == typeof(Version))
        {
            return new Version(6, 1, 2);
        }

        if (type == typeof(Dashboard.Oci.Digest))
        {
            return Dashboard.Oci.Digest.Compute("x"u8);
        }

        if (type == typeof(JsonElement))
        {
            return JsonDocument.Parse("""{"k":[1,"v",{"n":null}]}""").RootElement.Clone();
        }

        if (type == typeof(JsonObject) || type == typeof(JsonNode))
        {
            return new JsonObject { ["k"] = "v", ["n"] = 1, ["a"] = new JsonArray("x") };
        }

        if (type.IsArray)
        {
            var array = Array.CreateInstance(type.GetElementType()!, 1);
            array.SetValue(Fill(type.GetElementType()!, depth + 1), 0);
            return array;
        }

        if (type.IsGenericType && DictionaryTypes(type) is var (key, item))
        {
            var dictionary = (IDictionary)Activator.CreateInstance(type.IsInterface ? typeof(Dictionary<,>).MakeGenericType(key, item) : type)!;
            dictionary[Fill(key, depth + 1)!] = Fill(item, depth + 1);
            return dictionary;
        }

        if (type.IsGenericType && ElementType(type) is { } element)
        {
            var concrete = type.IsInterface
                ? (type.GetGenericTypeDefinition() == typeof(ISet<>) ? typeof(HashSet<>) : typeof(List<>)).MakeGenericType(element)
                : type;
            var list = Activator.CreateInstance(concrete)!;
            concrete.GetMethod("Add", [element])!.Invoke(list, [Fill(element, depth + 1)]);
            return list;
        }

        if (depth > 6 && !type.IsValueType)
        {
            return null;
        }

        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();
        var instance = constructor is null
            ? Activator.CreateInstance(type)!
            : constructor.Invoke([.. constructor.GetParameters().Select(p => Fill(p.ParameterType, depth + 1))]);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length == 0 && property.SetMethod is { IsPublic: true } && property.GetCustomAttribute<JsonIgnoreAttribute>() is not { Condition: JsonIgnoreCondition.Always })
            {
                property.SetValue(instance, Fill(property.PropertyType, depth + 1));
            }
        }

        return instance;
    }

    private static (Type Key, Type Item)? DictionaryTypes(Type type)
    {
        var dictionary = (type.IsInterface ? [type, .. type.GetInterfaces()] : type.GetInterfaces())
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() is var d && (d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>)));
        return dictionary is null ? null : (dictionary.GetGenericArguments()[0], dictionary.GetGenericArguments()[1]);
    }

    private static Type? ElementType(Type type) =>
        (type.IsInterface ? [type, .. type.GetInterfaces()] : type.GetInterfaces())
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
}
