using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Dashboard.Install.Tests;

/// <summary>The script's command line, without installing anything (no root needed).</summary>
public sealed partial class ScriptOptionsTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(InstallSandbox.Script);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    [Fact]
    public void Help_EveryParsedOption_IsDocumented()
    {
        var (code, help, _) = Run("--help");
        var parsed = ParsedOption().Matches(File.ReadAllText(InstallSandbox.Script)).Select(m => m.Groups[1].Value).Distinct().ToList();

        Assert.Equal(0, code);
        Assert.True(parsed.Count >= 20, $"found only {parsed.Count} options in the script's case statement");
        Assert.All(parsed, option => Assert.Matches($@"(?m)^\s+(\S+ )*{Regex.Escape(option)}\b", help));
    }

    [Theory]
    [InlineData(2, "unknown option '--frobnicate'", "--frobnicate")]
    [InlineData(1, "--purge only goes with --uninstall", "--purge")]
    [InlineData(1, "--cert and --key go together", "--cert", "/x.pem")]
    [InlineData(1, "--port: '99999' is not a port number", "--port", "99999")]
    [InlineData(1, "--cgroup-parent: must be an absolute cgroup path without '..'", "--cgroup-parent", "/a/../b")]
    [InlineData(1, "--prefix needs a value", "--prefix")]
    [InlineData(1, "refusing to use /var as a dashboard directory", "--data-dir", "/var/", "--uninstall", "--purge")]
    [InlineData(1, "refusing to use /etc as a dashboard directory", "--config-dir", "/etc")]
    public void BadCommandLine_RefusedBeforeTouchingAnything(int expectedCode, string message, params string[] args)
    {
        var (code, _, stderr) = Run(args);

        Assert.Equal(expectedCode, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"(?m)^\s+(--[a-z-]+)(?:\|-h)?\)")]
    private static partial Regex ParsedOption();
}
