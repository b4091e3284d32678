using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Fakes;

namespace Dashboard.Web.Tests.Components;

public class VolumesPageTests : DashboardTestContext
{
    public VolumesPageTests()
    {
        Engine.Volumes["appdata"] = new VolumeSummary("appdata", "local", "/v/appdata/_data", DateTimeOffset.UnixEpoch, new Dictionary<string, string>(), ["web-1", "web-2"]);
        Engine.Volumes["old"] = new VolumeSummary("old", "local", "/v/old/_data", null, new Dictionary<string, string>(), []);
    }

    private static AngleSharp.Dom.IElement FieldInput(IRenderedComponent<VolumesPage> cut, string testId)
    {
        var element = cut.Find($"[data-testid={testId}]");
        return element.TagName == "INPUT" ? element : element.QuerySelector("input")!;
    }

    [Fact]
    public void Viewer_ListsVolumesWithUsersAndNoActions()
    {
        var cut = Render<VolumesPage>();

        cut.WaitForAssertion(() => Assert.Equal(["appdata", "old"], cut.FindAll("[data-testid=volume-row-name]").Select(e => e.TextContent)), Wait);
        Assert.Equal(["web-1, web-2", "unused"], cut.FindAll("[data-testid=volume-used-by]").Select(e => e.TextContent));
        Assert.Empty(cut.FindAll("[data-testid=volume-create-form]"));
        Assert.Empty(cut.FindAll("[data-testid=volume-remove]"));
        Assert.Empty(cut.FindAll("[data-testid=volumes-prune]"));
    }

    [Fact]
    public void Viewer_Inspect_ShowsJson()
    {
        var cut = Render<VolumesPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=volume-inspect]").Count), Wait);

        cut.Dispatch(() => cut.FindAll("[data-testid=volume-inspect]")[0], e => e.Click());

        cut.WaitForAssertion(() => Assert.Contains("\"Mountpoint\": \"/v/appdata/_data\"", cut.Find("[data-testid=volume-inspect-json]").TextContent, StringComparison.Ordinal), Wait);
    }

    [Fact]
    public void Operator_CreatesAndRemoves_ButCannotPrune()
    {
        Access.Roles = [Roles.Operator];
        var cut = Render<VolumesPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=volume-create-form]"), Wait);
        Assert.Empty(cut.FindAll("[data-testid=volumes-prune]"));

        cut.Dispatch(() => FieldInput(cut, "volume-name"), e => e.Input("cache"));
        cut.Click("[data-testid=volume-create]");
        cut.WaitForAssertion(() => Assert.Contains("cache", cut.FindAll("[data-testid=volume-row-name]").Select(e => e.TextContent)), Wait);

        cut.Dispatch(() => cut.FindAll("[data-testid=volume-remove]")[^1], e => e.Click());
        cut.WaitForAssertion(() => Assert.Contains(("remove-volume", "old"), Engine.Calls), Wait);
        Assert.Contains(Audit.Recent(10), e => e.Action == "CreateVolume" && e.Outcome == AuditOutcome.Succeeded);
    }

    [Fact]
    public void Operator_BadName_IsRefusedBeforeEngine()
    {
        Access.Roles = [Roles.Operator];
        var cut = Render<VolumesPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=volume-create-form]"), Wait);

        cut.Dispatch(() => FieldInput(cut, "volume-name"), e => e.Input("../etc"));
        cut.Click("[data-testid=volume-create]");

        cut.WaitForAssertion(() => Assert.StartsWith("volume name ../etc:", cut.Find("[data-testid=volumes-action-error]").TextContent.Trim(), StringComparison.Ordinal), Wait);
        Assert.Empty(Engine.Calls);
    }

    [Fact]
    public void Admin_Prune_RemovesUnusedAndReports()
    {
        Access.Roles = [Roles.Admin];
        var cut = Render<VolumesPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=volumes-prune]"), Wait);

        cut.Click("[data-testid=volumes-prune]");

        cut.WaitForAssertion(() => Assert.Equal("removed 1 unused volume(s), 4.0 KiB reclaimed", cut.Find("[data-testid=volumes-pruned]").TextContent.Trim()), Wait);
        Assert.Equal(["appdata"], cut.FindAll("[data-testid=volume-row-name]").Select(e => e.TextContent));
    }

    [Fact]
    public async Task VolumeEvent_ReloadsList()
    {
        var cut = Render<VolumesPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=volume-row-name]").Count), Wait);
        WaitUntil(() => Engine.EventSubscribers == 1);

        Engine.Volumes["new"] = new VolumeSummary("new", "local", "/v/new/_data", null, new Dictionary<string, string>(), []);
        await Engine.PublishAsync(new EngineEvent(EngineEventType.Volume, "create", "new", new Dictionary<string, string>(), DateTimeOffset.UtcNow));

        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=volume-row-name]").Count), Wait);
    }

    [Fact]
    public void NoRole_ShowsPermissionError()
    {
        Access.Roles = [];

        var cut = Render<VolumesPage>();

        cut.WaitForAssertion(() => Assert.Equal("list volumes: permission denied", cut.Find("[data-testid=volumes-error]").TextContent.Trim()), Wait);
    }
}

public class NetworksPageTests : DashboardTestContext
{
    private const string BridgeId = "b1b1b1b1b1b1b1b1b1b1";
    private const string AppId = "a2a2a2a2a2a2a2a2a2a2";

    public NetworksPageTests()
    {
        Engine.Networks[BridgeId] = new NetworkSummary(BridgeId, "bridge", "bridge", "local", false, ["10.88.0.0/16"], new Dictionary<string, string>(), ["web-1"]);
        Engine.Networks[AppId] = new NetworkSummary(AppId, "app", "bridge", "local", true, [], new Dictionary<string, string>(), []);
    }

    private static AngleSharp.Dom.IElement FieldInput(IRenderedComponent<NetworksPage> cut, string testId)
    {
        var element = cut.Find($"[data-testid={testId}]");
        return element.TagName == "INPUT" ? element : element.QuerySelector("input")!;
    }

    [Fact]
    public void Viewer_ListsNetworksWithUsersAndNoActions()
    {
        var cut = Render<NetworksPage>();

        cut.WaitForAssertion(() => Assert.Equal(["app (internal)", "bridge"], cut.FindAll("[data-testid=network-row-name]").Select(e => e.TextContent)), Wait);
        Assert.Equal(["unused", "web-1"], cut.FindAll("[data-testid=network-used-by]").Select(e => e.TextContent));
        Assert.Contains("10.88.0.0/16", cut.Markup, StringComparison.Ordinal);
        Assert.Empty(cut.FindAll("[data-testid=network-create-form]"));
        Assert.Empty(cut.FindAll("[data-testid=network-remove]"));
        Assert.Empty(cut.FindAll("[data-testid=networks-prune]"));
    }

    [Fact]
    public void Operator_CreatesAndRemoves_PredefinedHasNoRemove()
    {
        Access.Roles = [Roles.Operator];
        var cut = Render<NetworksPage>();
        // The form shows with the role, the rows once the list has loaded: wait for both.
        cut.WaitForAssertion(
            () =>
            {
                cut.Find("[data-testid=network-create-form]");
                Assert.Single(cut.FindAll("[data-testid=network-remove]"));
            },
            Wait);

        cut.Dispatch(() => FieldInput(cut, "network-name"), e => e.Input("backend"));
        cut.Click("[data-testid=network-create]");
        cut.WaitForAssertion(() => Assert.Contains("backend", cut.FindAll("[data-testid=network-row-name]").Select(e => e.TextContent)), Wait);

        cut.Dispatch(() => cut.FindAll("[data-testid=network-remove]")[0], e => e.Click());
        cut.WaitForAssertion(() => Assert.Contains(("remove-network", AppId), Engine.Calls), Wait);
    }

    [Fact]
    public void Viewer_Inspect_ShowsJson()
    {
        var cut = Render<NetworksPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=network-inspect]").Count), Wait);

        cut.Dispatch(() => cut.FindAll("[data-testid=network-inspect]")[1], e => e.Click());

        cut.WaitForAssertion(() => Assert.Contains("\"Name\": \"bridge\"", cut.Find("[data-testid=network-inspect-json]").TextContent, StringComparison.Ordinal), Wait);
    }

    [Fact]
    public void Admin_Prune_ReportsRemovedNetworks()
    {
        Access.Roles = [Roles.Admin];
        var cut = Render<NetworksPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=networks-prune]"), Wait);

        cut.Click("[data-testid=networks-prune]");

        cut.WaitForAssertion(() => Assert.Equal("removed app", cut.Find("[data-testid=networks-pruned]").TextContent.Trim()), Wait);
        Assert.Contains(Audit.Recent(10), e => e.Action == "PruneNetworks" && e.Outcome == AuditOutcome.Succeeded);
    }

    [Fact]
    public void EngineError_IsShownAsText()
    {
        Access.Roles = [Roles.Operator];
        Engine.FailActionsWith = new EngineException(EngineErrorKind.Conflict, "remove network app: network has active endpoints <b>");
        var cut = Render<NetworksPage>();
        cut.WaitForAssertion(() => cut.Find("[data-testid=network-remove]"), Wait);

        cut.Click("[data-testid=network-remove]");

        cut.WaitForAssertion(() => Assert.Equal("remove network app: network has active endpoints <b>", cut.Find("[data-testid=networks-action-error]").TextContent.Trim()), Wait);
        Assert.Contains(Audit.Recent(10), e => e.Action == "RemoveNetwork" && e.Outcome == AuditOutcome.Failed);
    }
}
