using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Dashboard.Architecture.Tests;

/// <summary>DESIGN.md §3: references point down the project list only; P/Invoke lives in Dashboard.Linux alone.</summary>
public sealed partial class DependencyRuleTests
{
    private static readonly Dictionary<string, string[]> s_allowed = new()
    {
        ["Dashboard.Oci"] = [],
        ["Dashboard.Linux"] = [],
        ["Dashboard.Runtime"] = ["Dashboard.Oci", "Dashboard.Linux"],
        ["Dashboard.Runtime.Cli"] = ["Dashboard.Runtime"],
        // The lean resident supervisor: raw fds through Dashboard.Linux only (no Oci/JSON, no runtime core).
        ["Dashboard.Shim"] = ["Dashboard.Linux"],
        ["Dashboard.Images"] = ["Dashboard.Oci", "Dashboard.Linux"],
        ["Dashboard.Engine"] = ["Dashboard.Oci", "Dashboard.Linux", "Dashboard.Images", "Dashboard.Runtime"],
        ["Dashboard.Web"] = [],
    };

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Dashboard.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    public static TheoryData<string> Projects => [.. s_allowed.Keys];

    [Theory]
    [MemberData(nameof(Projects))]
    public void ProjectReferences_FollowTheDependencyRule(string project)
    {
        var csproj = Path.Combine(RepoRoot(), "src", project, project + ".csproj");
        var references = XDocument.Load(csproj).Descendants("ProjectReference")
            .Select(e => Path.GetFileNameWithoutExtension(e.Attribute("Include")!.Value.Replace('\\', '/')))
            .ToArray();
        var forbidden = references.Except(s_allowed[project]).ToArray();
        Assert.True(forbidden.Length == 0, $"{project} may not reference {string.Join(", ", forbidden)}");
    }

    [Fact]
    public void EveryProjectUnderSrc_IsKnownToTheRule()
    {
        var projects = Directory.GetDirectories(Path.Combine(RepoRoot(), "src")).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(s_allowed.Keys.Order(StringComparer.Ordinal), projects);
    }

    [Fact]
    public void Web_UsesDockerDotNetAndNoneOfOurLibraries()
    {
        var csproj = XDocument.Load(Path.Combine(RepoRoot(), "src/Dashboard.Web/Dashboard.Web.csproj"));
        Assert.Empty(csproj.Descendants("ProjectReference"));
        Assert.Contains(csproj.Descendants("PackageReference"), e => e.Attribute("Include")!.Value == "Docker.DotNet.Enhanced");
    }

    [GeneratedRegex(@"\[(DllImport|LibraryImport)\s*\(")]
    private static partial Regex InteropAttribute();

    [Fact]
    public void PInvoke_OnlyInDashboardLinux()
    {
        var offenders = Directory.EnumerateFiles(Path.Combine(RepoRoot(), "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/src/Dashboard.Linux/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Where(f => InteropAttribute().IsMatch(File.ReadAllText(f)))
            .Select(f => Path.GetRelativePath(RepoRoot(), f))
            .ToArray();
        Assert.True(offenders.Length == 0, "P/Invoke outside Dashboard.Linux: " + string.Join(", ", offenders));
    }
}
