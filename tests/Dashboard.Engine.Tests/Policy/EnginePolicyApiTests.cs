using System.Net;
using System.Text.Json;
using Dashboard.Engine.Tests.Fakes;

namespace Dashboard.Engine.Tests.Policy;

/// <summary>
/// The engine policy through <c>POST /containers/create</c> (security.md D3/D4): the same forbidden thing
/// spelled through different API fields is refused with 403, because the decision is made on the final spec.
/// </summary>
public sealed class EnginePolicyApiTests : IAsyncLifetime
{
    private TestEngine _engine = null!;
    private string _allowed = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _engine = await TestEngine.StartAsync();
        _allowed = Path.Combine(_engine.Root, "shared");
        Directory.CreateDirectory(Path.Combine(_allowed, "data"));
        File.CreateSymbolicLink(Path.Combine(_allowed, "escape"), "/etc");
        var policy = Path.Combine(_engine.Root, "engine-policy.json");
        await File.WriteAllTextAsync(policy, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["bindMountPrefixes"] = new[] { _allowed },
            ["capabilities"] = new[] { "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE" },
        }), Ct);
        _engine.Options.PolicyFile = policy;
    }

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    private async Task<(HttpStatusCode Status, string Message)> CreateAsync(string hostConfig)
    {
        using var http = RawHttp.Create(_engine.Socket);
        var body = $$"""{"Image":"busybox","Cmd":["sleep","1"],"HostConfig":{{hostConfig}}}""";
        using var response = await http.PostAsync("/v1.43/containers/create", RawHttp.Json(body), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        using var doc = JsonDocument.Parse(text);
        return (response.StatusCode, doc.RootElement.TryGetProperty("message", out var m) ? m.GetString()! : "");
    }

    public static TheoryData<string, string, string> Forbidden => new()
    {
        { "privileged", """{"Privileged":true}""", "privileged mode is not allowed" },
        { "all capabilities", """{"CapAdd":["ALL"]}""", "CAP_SYS_ADMIN" },
        { "cap name", """{"CapAdd":["SYS_ADMIN"]}""", "capabilities CAP_SYS_ADMIN are not allowed" },
        { "cap prefixed lower case", """{"CapAdd":["cap_sys_admin"]}""", "capabilities CAP_SYS_ADMIN are not allowed" },
        { "cap with spaces", """{"CapAdd":[" Sys_Ptrace "]}""", "capabilities CAP_SYS_PTRACE are not allowed" },
        { "host network", """{"NetworkMode":"host"}""", "host's network namespace" },
        { "host pid", """{"PidMode":"host"}""", "host's pid namespace" },
        { "host ipc", """{"IpcMode":"host"}""", "host's ipc namespace" },
        { "host uts", """{"UTSMode":"host"}""", "host's uts namespace" },
        { "Binds", """{"Binds":["/etc:/host-etc:ro"]}""", "bind mount of host path /etc is not allowed" },
        { "Mounts", """{"Mounts":[{"Type":"bind","Source":"/etc","Target":"/host-etc","ReadOnly":true}]}""", "bind mount of host path /etc is not allowed" },
        { "Binds dot-dot", """{"Binds":["ALLOWED/../../../../../etc:/x"]}""", "is not allowed" },
        { "Binds symlink", """{"Binds":["ALLOWED/escape:/x"]}""", "bind mount of host path ALLOWED/escape is not allowed" },
        { "Mounts symlink", """{"Mounts":[{"Type":"bind","Source":"ALLOWED/escape","Target":"/x"}]}""", "is not allowed" },
        { "sysctl not namespaced-safe", """{"Sysctls":{"net.core.somaxconn":"1024"}}""", "sysctl net.core.somaxconn is not allowed" },
        { "sysctl kernel", """{"Sysctls":{"kernel.msgmax":"65536"}}""", "sysctl kernel.msgmax is not allowed" },
    };

    [Theory]
    [MemberData(nameof(Forbidden))]
    public async Task Create_ForbiddenByPolicy_403WithMessage(string row, string hostConfig, string message)
    {
        var (status, text) = await CreateAsync(hostConfig.Replace("ALLOWED", _allowed, StringComparison.Ordinal));
        Assert.True(status == HttpStatusCode.Forbidden, $"{row}: {status} {text}");
        Assert.Contains(message.Replace("ALLOWED", _allowed, StringComparison.Ordinal), text);
        Assert.StartsWith("refused by the engine policy: ", text);
        Assert.Empty(await _engine.Client.Containers.ListContainersAsync(new Docker.DotNet.Models.ContainersListParameters { All = true }, Ct));
        Assert.Empty(Directory.GetDirectories(_engine.Options.ContainersDir));
    }

    public static TheoryData<string, string> Allowed => new()
    {
        { "plain", "{}" },
        { "bind under the prefix", """{"Binds":["ALLOWED/data:/data"]}""" },
        { "Mounts under the prefix", """{"Mounts":[{"Type":"bind","Source":"ALLOWED/data","Target":"/data"}]}""" },
        { "tmpfs", """{"Tmpfs":{"/run":"size=1m"},"Mounts":[{"Type":"tmpfs","Target":"/cache"}]}""" },
        { "drop all", """{"CapDrop":["ALL"],"CapAdd":["NET_BIND_SERVICE"]}""" },
        { "safe sysctl", """{"Sysctls":{"net.ipv4.ip_unprivileged_port_start":"80"}}""" },
        { "anonymous volume", """{"Binds":[]}""" },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public async Task Create_AllowedByPolicy_201(string row, string hostConfig)
    {
        var (status, text) = await CreateAsync(hostConfig.Replace("ALLOWED", _allowed, StringComparison.Ordinal));
        Assert.True(status == HttpStatusCode.Created, $"{row}: {status} {text}");
    }

    [Fact]
    public async Task Create_AnonymousVolumeFromVolumesField_AllowedAsEngineManaged()
    {
        using var http = RawHttp.Create(_engine.Socket);
        using var response = await http.PostAsync("/v1.43/containers/create", RawHttp.Json("""{"Image":"busybox","Cmd":["sleep","1"],"Volumes":{"/data":{}}}"""), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("""{"NetworkMode":"HOST"}""")]
    [InlineData("""{"NetworkMode":"host "}""")]
    [InlineData("""{"PidMode":"Host"}""")]
    public async Task Create_CaseAndSpaceVariantsOfHost_NeverCreated(string hostConfig)
    {
        var (status, _) = await CreateAsync(hostConfig);
        // Refused one way or another (403 policy, 400 invalid, 404 no such network): never the host's namespace.
        Assert.True(status is HttpStatusCode.Forbidden or HttpStatusCode.BadRequest or HttpStatusCode.NotFound, status.ToString());
        Assert.Empty(await _engine.Client.Containers.ListContainersAsync(new Docker.DotNet.Models.ContainersListParameters { All = true }, Ct));
    }

    [Fact]
    public async Task Create_PolicyFileWritableByOthers_RefusedFailClosed()
    {
        File.SetUnixFileMode(_engine.Options.PolicyFile!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherWrite | UnixFileMode.OtherRead);
        var (status, text) = await CreateAsync("{}");
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Contains("must be owned by root and not writable by group or others", text);
    }

    [Fact]
    public async Task Create_PolicyEditedToAllowPrivileged_AppliesWithoutRestart()
    {
        Assert.Equal(HttpStatusCode.Forbidden, (await CreateAsync("""{"Privileged":true}""")).Status);
        await File.WriteAllTextAsync(_engine.Options.PolicyFile!, """{"privileged":true,"hostNamespaces":["network"]}""", Ct);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync("""{"Privileged":true}""")).Status);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync("""{"NetworkMode":"host"}""")).Status);
    }

    [Fact]
    public async Task Create_PolicyWithUnknownKey_RefusedFailClosed()
    {
        await File.WriteAllTextAsync(_engine.Options.PolicyFile!, """{"privilegd":true}""", Ct);
        var (status, text) = await CreateAsync("{}");
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Contains("engine policy", text);
    }
}
