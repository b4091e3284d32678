using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dashboard.Engine.Networking;

/// <summary>
/// Runs CNI plugin executables as the CNI spec (SPEC.md "Execution Protocol") describes: parameters in
/// <c>CNI_*</c> environment variables, the network configuration on stdin, the result or an error
/// object on stdout. Only plugin type names from our own configurations reach the file system, and
/// every value passed is engine-made (ids, paths), never user text (security.md D10).
/// </summary>
public sealed class CniPlugins
{
    public const string CniVersion = "1.0.0";

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly IReadOnlyList<string> _searchPath;

    public CniPlugins(IReadOnlyList<string> searchPath) => _searchPath = searchPath;

    /// <summary>The directories Debian's containernetworking-plugins and upstream installs use.</summary>
    public static IReadOnlyList<string> DefaultSearchPath { get; } = ["/usr/lib/cni", "/opt/cni/bin", "/usr/libexec/cni"];

    public string? Find(string type) =>
        _searchPath.Select(d => Path.Combine(d, type)).FirstOrDefault(File.Exists);

    /// <summary>Runs <paramref name="command"/> (ADD, DEL, CHECK) of the plugin named by the config's <c>type</c>; returns the parsed result (null for DEL/CHECK).</summary>
    public async Task<JsonObject?> ExecAsync(string command, JsonObject config, string containerId, string netns, string ifName, string? cniArgs, CancellationToken cancellationToken)
    {
        var type = config["type"]?.GetValue<string>() ?? throw new EngineException(ErrorKind.Internal, "cni config without a plugin type");
        var binary = Find(type) ?? throw new EngineException(ErrorKind.Unsupported, $"failed to find plugin \"{type}\" in path [{string.Join(' ', _searchPath)}]: install containernetworking-plugins");
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        psi.Environment["CNI_COMMAND"] = command;
        psi.Environment["CNI_CONTAINERID"] = containerId;
        psi.Environment["CNI_NETNS"] = netns;
        psi.Environment["CNI_IFNAME"] = ifName;
        psi.Environment["CNI_PATH"] = string.Join(':', _searchPath);
        if (cniArgs is not null)
        {
            psi.Environment["CNI_ARGS"] = cniArgs;
        }

        using var process = Process.Start(psi) ?? throw new EngineException(ErrorKind.Internal, $"start cni plugin {type}: no process");
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        await process.StandardInput.WriteAsync(config.ToJsonString());
        process.StandardInput.Close();
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(s_timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                if (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }

                throw new EngineException(ErrorKind.Internal, $"cni plugin {type} {command}: no answer within {s_timeout.TotalSeconds} s");
            }
        }

        var output = await stdout;
        var errors = await stderr;
        if (process.ExitCode != 0)
        {
            throw new EngineException(ErrorKind.Internal, $"plugin type=\"{type}\" failed ({command.ToLowerInvariant()}): {ErrorText(output, errors)}");
        }

        if (command != "ADD")
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(output) as JsonObject ?? throw new EngineException(ErrorKind.Internal, $"plugin type=\"{type}\" returned no result object");
        }
        catch (JsonException e)
        {
            throw new EngineException(ErrorKind.Internal, $"plugin type=\"{type}\" returned an unreadable result: {e.Message}", e);
        }
    }

    /// <summary>The CNI error object's <c>msg</c> and <c>details</c> (SPEC.md "Error"), else the raw output.</summary>
    private static string ErrorText(string stdout, string stderr)
    {
        try
        {
            if (JsonNode.Parse(stdout) is JsonObject error)
            {
                var text = new StringBuilder(error["msg"]?.ToString() ?? "");
                if (error["details"]?.ToString() is { Length: > 0 } details)
                {
                    text.Append(": ").Append(details);
                }

                if (text.Length > 0)
                {
                    return text.ToString();
                }
            }
        }
        catch (JsonException)
        {
        }

        var raw = (stdout + " " + stderr).Trim();
        return raw.Length > 2000 ? raw[..2000] : raw;
    }
}
