using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dashboard.Engine.Hosting;
using Dashboard.Oci.Runtime;

namespace Dashboard.Engine.Containers;

/// <summary>
/// Runs a health check the way an exec runs (<c>dashboard-runtime exec --process FILE</c>): the
/// container's own process settings (user, env, cwd, capabilities) with the check's command, no tty,
/// stdin closed, stdout and stderr captured. On timeout the process is killed by its host pid.
/// </summary>
public sealed class RuntimeExecHealthProbe(EngineOptions options, ILogger<RuntimeExecHealthProbe> log) : IHealthProbe
{
    private string HealthDir => Path.Combine(options.StateRoot, "health");

    public async Task<HealthProbeResult> RunAsync(ContainerRecord container, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var spec = RuntimeJson.ParseSpec(await File.ReadAllBytesAsync(Path.Combine(container.BundleDir, "config.json"), cancellationToken));
        var process = RuntimeJson.ParseProcess(RuntimeJson.Serialize(spec.Process ?? new Oci.Runtime.Process()));
        process.Args = [.. command];
        process.Terminal = false;
        process.ConsoleSize = null;

        Directory.CreateDirectory(HealthDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var stem = Path.Combine(HealthDir, container.Id[..32] + "-" + Guid.NewGuid().ToString("N")[..8]);
        var processFile = stem + ".json";
        var pidFile = stem + ".pid";
        var logFile = stem + ".log";
        await File.WriteAllTextAsync(processFile, RuntimeJson.Serialize(process), cancellationToken);
        try
        {
            var psi = new ProcessStartInfo(options.ResolveRuntimePath())
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };

            // The id is engine-generated hex and the paths are engine-owned; the check's command travels in the process file (security.md D10).
            foreach (var a in (string[])["--root", options.StateRoot, "--log", logFile, "--log-format", "json", "exec", "--process", processFile, "--pid-file", pidFile, container.Id])
            {
                psi.ArgumentList.Add(a);
            }

            psi.Environment["DOTNET_EnableDiagnostics"] = "0";
            using var child = System.Diagnostics.Process.Start(psi) ?? throw new EngineException(ErrorKind.Internal, "start health check: no process");
            child.StandardInput.Close();
            var output = new BoundedText(HealthMonitor.MaxOutputLength);
            var stdout = CopyAsync(child.StandardOutput.BaseStream, output);
            var stderr = CopyAsync(child.StandardError.BaseStream, output);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                await child.WaitForExitAsync(deadline.Token);
                await Task.WhenAll(stdout, stderr).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
            }
            catch (OperationCanceledException)
            {
                KillProbe(child, pidFile);
                cancellationToken.ThrowIfCancellationRequested();
                return new HealthProbeResult(-1, $"Health check exceeded timeout ({FormatDuration(timeout)})");
            }
            catch (TimeoutException)
            {
                // A grandchild in the container kept stdout open; the check itself has finished.
            }

            var text = output.ToString();
            if (child.ExitCode != 0 && text.Length == 0 && Exec.ExecManager.LastLogMessage(logFile) is { } message)
            {
                text = message;
            }

            return new HealthProbeResult(child.ExitCode, text);
        }
        finally
        {
            File.Delete(processFile);
            File.Delete(pidFile);
            File.Delete(logFile);
        }
    }

    private void KillProbe(System.Diagnostics.Process child, string pidFile)
    {
        try
        {
            if (int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0)
            {
                _ = Tmds.Linux.LibC.kill(pid, Runtime.Signals.SIGKILL);
            }
        }
        catch (IOException)
        {
        }

        try
        {
            child.Kill();
        }
        catch (InvalidOperationException)
        {
        }

        log.LogDebug("health check process {Pid} killed after its timeout", child.Id);
    }

    private static string FormatDuration(TimeSpan t) =>
        t.TotalSeconds >= 1 && t.Milliseconds == 0 ? t.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s" : t.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + "ms";

    private static async Task CopyAsync(Stream from, BoundedText to)
    {
        var buffer = new byte[4096];
        int read;
        while ((read = await from.ReadAsync(buffer)) > 0)
        {
            to.Append(buffer.AsSpan(0, read));
        }
    }

    /// <summary>stdout and stderr interleaved as they arrive, keeping only the first <c>limit</c> bytes.</summary>
    private sealed class BoundedText(int limit)
    {
        private readonly Lock _gate = new();
        private readonly MemoryStream _bytes = new();

        public void Append(ReadOnlySpan<byte> data)
        {
            lock (_gate)
            {
                var room = limit - (int)_bytes.Length;
                if (room > 0)
                {
                    _bytes.Write(data[..Math.Min(room, data.Length)]);
                }
            }
        }

        public override string ToString()
        {
            lock (_gate)
            {
                return Encoding.UTF8.GetString(_bytes.GetBuffer(), 0, (int)_bytes.Length);
            }
        }
    }
}
