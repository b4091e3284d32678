using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Identity;
using Dashboard.Web.Model;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Fakes;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace Dashboard.Web.Tests.Components;

/// <summary>
/// The container list over several engines (issue 5 §13 "view all together"): rows of every engine with their engine,
/// live from each engine's events, actions and bulk actions routed to the row's engine, per-engine roles per row.
/// </summary>
public sealed class ContainersAllEnginesTests : DashboardTestContext
{
    private readonly FakeEngineClient _alpha;
    private readonly FakeEngineClient _beta;
    private readonly FakeEngineClient _gamma;
    private readonly EngineRegistry _registry;

    public ContainersAllEnginesTests()
        : this(new FakeEngineClient(), new FakeEngineClient(), new FakeEngineClient())
    {
    }

    private ContainersAllEnginesTests(FakeEngineClient alpha, FakeEngineClient beta, FakeEngineClient gamma)
        : this(new EngineRegistry([KeyValuePair.Create("alpha", (IEngineClient)alpha), KeyValuePair.Create("beta", (IEngineClient)beta), KeyValuePair.Create("gamma", (IEngineClient)gamma)]))
    {
        _alpha = alpha;
        _beta = beta;
        _gamma = gamma;

        // The same id on two engines: only the engine tells the rows apart.
        _alpha.SetContainer(FakeEngineClient.Container("c1", "web", ContainerState.Running, "nginx:1"));
        _alpha.SetContainer(FakeEngineClient.Container("a2", "db", ContainerState.Running, "postgres:16"));
        _beta.SetContainer(FakeEngineClient.Container("c1", "web", ContainerState.Exited, "nginx:1"));
        _beta.SetContainer(FakeEngineClient.Container("b2", "queue", ContainerState.Running, "rabbitmq:3"));
        _gamma.SetContainer(FakeEngineClient.Container("g1", "secret", ContainerState.Running));
    }

    private ContainersAllEnginesTests(EngineRegistry registry)
        : base(s => s.AddSingleton<IEngineRegistry>(registry))
    {
        _registry = registry;
        _alpha = _beta = _gamma = null!;
    }

    [Fact]
    public void AllEngines_ListsEveryEnginesRows_WithEngineColumn()
    {
        var cut = RenderAll();

        cut.WaitForAssertion(() => Assert.Equal(["db/alpha", "queue/beta", "secret/gamma", "web/alpha", "web/beta"], Rows(cut)), Wait);
        Assert.Contains(cut.FindAll("thead th"), th => th.TextContent.Trim() == "Engine");
        Assert.Contains("All (5)", cut.Find("[data-testid=filter-all]").TextContent, StringComparison.Ordinal);
        var hrefs = cut.FindAll("[data-testid=container-name]").Select(a => a.GetAttribute("href")).ToList();
        Assert.Contains("/containers/beta/c1", hrefs);
        Assert.Contains("/containers/alpha/c1", hrefs);
    }

    [Fact]
    public void OneEngine_NoEngineColumn_OnlyItsRows()
    {
        var cut = RenderFor("beta");

        cut.WaitForAssertion(() => Assert.Equal(["queue", "web"], Names(cut)), Wait);
        Assert.DoesNotContain(cut.FindAll("thead th"), th => th.TextContent.Trim() == "Engine");
        Assert.Empty(cut.FindAll("[data-testid=container-engine]"));
    }

    [Fact]
    public async Task EngineSelector_AllEnginesThenOne_SwitchesRowsAndSubscriptions()
    {
        var cut = RenderFor("alpha");
        cut.WaitForAssertion(() => Assert.Equal(["db", "web"], Names(cut)), Wait);
        var select = cut.FindComponent<MudSelect<string>>();

        await cut.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(ContainersViewModel.AllEngines));

        cut.WaitForAssertion(() => Assert.Equal(5, Names(cut).Count), Wait);
        WaitUntil(() => _alpha.EventSubscribers == 1 && _beta.EventSubscribers == 1 && _gamma.EventSubscribers == 1);

        await cut.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync("gamma"));

        cut.WaitForAssertion(() => Assert.Equal(["secret"], Names(cut)), Wait);
        WaitUntil(() => _alpha.EventSubscribers == 0 && _beta.EventSubscribers == 0 && _gamma.EventSubscribers == 1);
    }

    [Fact]
    public async Task AllEngines_EventsOfEachEngine_UpdateOnlyThatEnginesRows()
    {
        var cut = RenderAll();
        cut.WaitForAssertion(() => Assert.Equal(5, Names(cut).Count), Wait);

        _beta.SetContainer(FakeEngineClient.Container("c1", "web", ContainerState.Running, "nginx:1"));
        _beta.RemoveContainer("b2");
        await _beta.PublishAsync(FakeEngineClient.ContainerEvent("c1", "start"), FakeEngineClient.ContainerEvent("b2", "destroy"));
        _gamma.SetContainer(FakeEngineClient.Container("g2", "late", ContainerState.Created));
        await _gamma.PublishAsync(EngineEvent.Resync(DateTimeOffset.UtcNow));

        cut.WaitForAssertion(() => Assert.Equal(["db/alpha", "late/gamma", "secret/gamma", "web/alpha", "web/beta"], Rows(cut)), Wait);
        Assert.Equal("running", Row(cut, "web", "beta").QuerySelector("[data-testid=state]")!.TextContent.Trim());
        Assert.Equal("running", Row(cut, "web", "alpha").QuerySelector("[data-testid=state]")!.TextContent.Trim());
    }

    [Fact]
    public void AllEngines_RowAction_GoesToTheRowsEngine()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderAll();
        cut.WaitForAssertion(() => Assert.Equal(5, Names(cut).Count), Wait);

        cut.Dispatch(() => Row(cut, "web", "beta").QuerySelector("[data-testid=action-start]")!, e => e.Click());

        cut.WaitForAssertion(() => Assert.Contains(("start", "c1"), _beta.Calls), Wait);
        Assert.Empty(_alpha.Calls);
        cut.WaitForAssertion(() => Assert.Contains(Audit.Recent(10), e => e.Target == "container beta/c1" && e.Outcome == AuditOutcome.Succeeded), Wait);
    }

    [Fact]
    public void AllEngines_PerEngineRoles_RowsAndButtonsFollowEachEnginesRole()
    {
        Access.Roles = [Roles.Operator];
        Access.EngineRoles = new(StringComparer.Ordinal) { ["beta"] = Roles.Viewer, ["gamma"] = EngineRoleAdministration.NoRole };

        var cut = RenderAll();

        cut.WaitForAssertion(() => Assert.Equal(["db/alpha", "queue/beta", "web/alpha", "web/beta"], Rows(cut)), Wait);
        Assert.Equal(0, _gamma.EventSubscribers);
        Assert.NotEmpty(Row(cut, "web", "alpha").QuerySelectorAll("[data-testid^=action-]"));
        Assert.Empty(Row(cut, "web", "beta").QuerySelectorAll("[data-testid^=action-]"));
        Assert.Empty(Row(cut, "queue", "beta").QuerySelectorAll("[data-testid^=action-]"));
    }

    [Fact]
    public void AllEngines_ViewerEverywhereButOperatorOnBeta_NewContainerGoesToBeta()
    {
        Access.Roles = [Roles.Viewer];
        Access.EngineRoles = new(StringComparer.Ordinal) { ["beta"] = Roles.Operator };

        var cut = RenderAll();

        cut.WaitForAssertion(() => Assert.Equal(5, Names(cut).Count), Wait);
        Assert.EndsWith("/containers/new?engine=beta", cut.Find("[data-testid=container-new]").GetAttribute("href"), StringComparison.Ordinal);
        Assert.Empty(Row(cut, "web", "alpha").QuerySelectorAll("[data-testid^=action-]"));
        Assert.NotEmpty(Row(cut, "web", "beta").QuerySelectorAll("[data-testid^=action-]"));
    }

    [Fact]
    public void AllEngines_NoRoleOnAnyEngine_ShowsPermissionError()
    {
        Access.Roles = [Roles.Viewer];
        Access.EngineRoles = new(StringComparer.Ordinal) { ["alpha"] = "None", ["beta"] = "None", ["gamma"] = "None" };

        var cut = RenderAll();

        cut.WaitForAssertion(() => Assert.Equal("list containers: permission denied", cut.Find("[data-testid=containers-error]").TextContent.Trim()), Wait);
        Assert.Empty(Names(cut));
        Assert.Equal(0, _alpha.EventSubscribers + _beta.EventSubscribers + _gamma.EventSubscribers);
    }

    [Fact]
    public void AllEngines_OneEngineUnreachable_OthersListedAndErrorNamesTheEngine()
    {
        _beta.FailListWith = new EngineException(EngineErrorKind.Unavailable, "list containers: connection refused");

        var cut = RenderAll();

        cut.WaitForAssertion(() => Assert.Equal(["db/alpha", "secret/gamma", "web/alpha"], Rows(cut)), Wait);
        Assert.Equal("engine beta: list containers: connection refused", cut.Find("[data-testid=containers-error]").TextContent.Trim());
    }

    [Fact]
    public void AllEngines_SearchByEngineName_ShowsThatEngine()
    {
        var cut = RenderAll();
        cut.WaitForAssertion(() => Assert.Equal(5, Names(cut).Count), Wait);

        cut.Input("input[placeholder^=Search]", "gamma");

        cut.WaitForAssertion(() => Assert.Equal(["secret/gamma"], Rows(cut)), Wait);
    }

    [Fact]
    public void AllEngines_EngineAddedAtRunTime_JoinsTheList()
    {
        var cut = RenderAll();
        cut.WaitForAssertion(() => Assert.Equal(5, Names(cut).Count), Wait);
        var delta = new FakeEngineClient();
        delta.SetContainer(FakeEngineClient.Container("d1", "remote-job", ContainerState.Running));

        Assert.True(_registry.TryAdd("delta", delta));

        cut.WaitForAssertion(() => Assert.Contains("remote-job/delta", Rows(cut)), Wait);
        WaitUntil(() => delta.EventSubscribers == 1);
        Assert.True(_registry.Remove("delta"));
        cut.WaitForAssertion(() => Assert.DoesNotContain("remote-job/delta", Rows(cut)), Wait);
    }

    [Fact]
    public void Bulk_Viewer_HasNoCheckboxes()
    {
        var cut = RenderAll();

        cut.WaitForAssertion(() => Assert.Equal(5, Names(cut).Count), Wait);
        Assert.Empty(cut.FindAll("[data-testid=select-row]"));
        Assert.Empty(cut.FindAll("[data-testid=select-all]"));
    }

    [Fact]
    public void Bulk_SelectAllAndStop_EachRowStoppedOnItsEngine_ViewerEngineSkipped()
    {
        Access.Roles = [Roles.Operator];
        Access.EngineRoles = new(StringComparer.Ordinal) { ["gamma"] = Roles.Viewer };
        var cut = RenderAll();
        cut.WaitForAssertion(() => Assert.Equal(5, Names(cut).Count), Wait);

        SelectAll(cut);
        cut.WaitForAssertion(() => Assert.Equal("5 selected", cut.Find("[data-testid=bulk-count]").TextContent.Trim()), Wait);
        cut.Click("[data-testid=bulk-stop]");

        // The items run side by side (BulkParallelism) and each is audited after its engine call: wait for all of it.
        cut.WaitForAssertion(
            () =>
            {
                Assert.Equal(["a2", "c1"], _alpha.Calls.Where(c => c.Action == "stop").Select(c => c.Id).Order(StringComparer.Ordinal));
                Assert.Equal([("stop", "b2")], _beta.Calls);
                Assert.Equal(3, Audit.Recent(20).Count(e => e.Action == "StopContainer" && e.Outcome == AuditOutcome.Succeeded));
            },
            Wait);
        Assert.Empty(_gamma.Calls);
        Assert.DoesNotContain(Audit.Recent(20), e => e.Target.StartsWith("container gamma/", StringComparison.Ordinal));
    }

    [Fact]
    public void Bulk_OfferedActions_FitSelectedStatesAndRoles()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderAll();
        cut.WaitForAssertion(() => Assert.Equal(5, Names(cut).Count), Wait);

        Select(cut, "web", "beta");

        cut.WaitForAssertion(() => Assert.Equal(["bulk-start", "bulk-restart", "bulk-remove"], BulkButtons(cut)), Wait);
        Select(cut, "queue", "beta");
        cut.WaitForAssertion(() => Assert.Equal(["bulk-start", "bulk-stop", "bulk-restart", "bulk-kill", "bulk-pause", "bulk-remove"], BulkButtons(cut)), Wait);
        cut.Click("[data-testid=bulk-clear]");
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=bulk-bar]")), Wait);
    }

    [Fact]
    public void Bulk_EngineRefusesOne_FailureShownPerContainer()
    {
        Access.Roles = [Roles.Operator];
        _beta.FailActionsWith = new EngineException(EngineErrorKind.Conflict, "restart container c1: container is being removed");
        var cut = RenderAll();
        cut.WaitForAssertion(() => Assert.Equal(5, Names(cut).Count), Wait);
        Select(cut, "web", "alpha");
        Select(cut, "web", "beta");

        cut.WaitForElement("[data-testid=bulk-restart]", Wait);

        cut.Click("[data-testid=bulk-restart]");

        cut.WaitForAssertion(() => Assert.Equal("web (beta): restart container c1: container is being removed", cut.Find("[data-testid=bulk-failure]").TextContent.Trim()), Wait);
        Assert.Equal([("restart", "c1")], _alpha.Calls);
        Assert.Contains(Audit.Recent(10), e => e.Target == "container beta/c1" && e.Outcome == AuditOutcome.Failed);
    }

    [Fact]
    public void Bulk_RoleRevokedAfterSelection_ServerRefusesEachItem()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderAll();
        cut.WaitForAssertion(() => Assert.Equal(5, Names(cut).Count), Wait);
        Select(cut, "db", "alpha");
        Select(cut, "queue", "beta");
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=bulk-kill]")), Wait);

        Access.Roles = [Roles.Viewer];
        cut.Click("[data-testid=bulk-kill]");

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=bulk-failure]").Count), Wait);
        Assert.Empty(_alpha.Calls);
        Assert.Empty(_beta.Calls);
        Assert.Equal(2, Audit.Recent(10).Count(e => e.Action == "KillContainer" && e.Outcome == AuditOutcome.Denied));
    }

    [Fact]
    public async Task Bulk_SelectedContainerDestroyed_LeavesTheSelection()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderAll();
        cut.WaitForAssertion(() => Assert.Equal(5, Names(cut).Count), Wait);
        Select(cut, "queue", "beta");
        Select(cut, "db", "alpha");
        cut.WaitForAssertion(() => Assert.Equal("2 selected", cut.Find("[data-testid=bulk-count]").TextContent.Trim()), Wait);

        _beta.RemoveContainer("b2");
        await _beta.PublishAsync(FakeEngineClient.ContainerEvent("b2", "destroy"));

        cut.WaitForAssertion(() => Assert.Equal("1 selected", cut.Find("[data-testid=bulk-count]").TextContent.Trim()), Wait);
    }

    private IRenderedComponent<Containers> RenderAll() => RenderFor(ContainersViewModel.AllEngines);

    private IRenderedComponent<Containers> RenderFor(string engine)
    {
        var navigation = Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo(navigation.GetUriWithQueryParameter("engine", engine));
        return Render<Containers>();
    }

    private static void SelectAll(IRenderedComponent<Containers> cut) =>
        cut.Change("[data-testid=select-all] input, input[data-testid=select-all]", true);

    /// <summary>
    /// Ticks a row and waits until the bulk bar counts it: the checkbox's change reaches the page through MudBlazor's
    /// async handler, so the bar can render after <c>Change</c> has returned.
    /// </summary>
    private static void Select(IRenderedComponent<Containers> cut, string name, string engine)
    {
        var before = SelectedCount(cut);
        cut.Dispatch(() => Row(cut, name, engine).QuerySelector("[data-testid=select-row] input, input[data-testid=select-row]")!, e => e.Change(true));
        cut.WaitForAssertion(() => Assert.Equal(before + 1, SelectedCount(cut)), Wait);
    }

    private static int SelectedCount(IRenderedComponent<Containers> cut) =>
        cut.FindAll("[data-testid=bulk-count]") is [var count]
            ? int.Parse(count.TextContent.Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)
            : 0;

    private static AngleSharp.Dom.IElement Row(IRenderedComponent<Containers> cut, string name, string engine) =>
        cut.FindAll("tbody tr").Single(r =>
            r.QuerySelector("[data-testid=container-name]")?.TextContent == name &&
            r.QuerySelector("[data-testid=container-engine]")?.TextContent == engine);

    private static List<string> Names(IRenderedComponent<Containers> cut) =>
        cut.FindAll("[data-testid=container-name]").Select(e => e.TextContent).ToList();

    private static List<string> Rows(IRenderedComponent<Containers> cut) =>
        cut.FindAll("tbody tr")
            .Where(r => r.QuerySelector("[data-testid=container-name]") is not null)
            .Select(r => r.QuerySelector("[data-testid=container-name]")!.TextContent + "/" + r.QuerySelector("[data-testid=container-engine]")?.TextContent)
            .ToList();

    private static List<string> BulkButtons(IRenderedComponent<Containers> cut) =>
        cut.FindAll("[data-testid^=bulk-]")
            .Select(e => e.GetAttribute("data-testid")!)
            .Where(t => t is not "bulk-bar" and not "bulk-count" and not "bulk-clear" and not "bulk-failure")
            .ToList();
}
