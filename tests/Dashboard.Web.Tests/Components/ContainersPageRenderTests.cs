using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Tests.Fakes;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web.Virtualization;

namespace Dashboard.Web.Tests.Components;

/// <summary>First render of the long list: prerendered rows, handed to the circuit (issue 5 bench (b)).</summary>
public class ContainersPageRenderTests : DashboardTestContext
{
    public ContainersPageRenderTests()
    {
        for (var i = 0; i < 1000; i++)
        {
            Engine.SetContainer(FakeEngineClient.Container($"x{i:D4}", $"bulk-{i:D4}", ContainerState.Exited));
        }
    }

    [Fact]
    public void Prerender_ManyContainers_ShowsTheFirstRowsAsPlainRows()
    {
        SetRendererInfo(new RendererInfo("Static", isInteractive: false));

        var cut = Render<Containers>();

        cut.WaitForAssertion(() => Assert.Contains("All (1000)", cut.Find("[data-testid=filter-all]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Empty(cut.FindComponents<Virtualize<ContainerSummary>>());
        Assert.Equal(Enumerable.Range(0, Containers.FirstRows).Select(i => $"bulk-{i:D4}"), Names(cut));
        Assert.Equal(Containers.FirstRows, cut.Instance.FirstPage?.Count);
    }

    [Fact]
    public void Prerender_ShortList_ShowsEveryRow()
    {
        for (var i = Containers.VirtualizeAbove; i < 1000; i++)
        {
            Engine.RemoveContainer($"x{i:D4}");
        }

        SetRendererInfo(new RendererInfo("Static", isInteractive: false));

        var cut = Render<Containers>();

        cut.WaitForAssertion(() => Assert.Equal(Containers.VirtualizeAbove, Names(cut).Count), Wait);
    }

    [Fact]
    public void Circuit_BeforeItsListLoads_ShowsThePrerenderedRows_ThenVirtualizes()
    {
        // What [PersistentState] restores in the circuit: the prerender's first rows.
        var first = Enumerable.Range(0, Containers.FirstRows).Select(i => FakeEngineClient.Container($"x{i:D4}", $"bulk-{i:D4}", ContainerState.Exited)).ToList();
        ComponentFactories.Add<Containers>(() => new Containers { FirstPage = first });
        Engine.ListGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var cut = Render<Containers>();

        Assert.Equal(first.Select(c => c.Name), Names(cut));
        Assert.Empty(cut.FindComponents<Virtualize<ContainerSummary>>());
        Engine.ListGate.SetResult();
        cut.WaitForAssertion(() => Assert.NotNull(cut.FindComponent<Virtualize<ContainerSummary>>()), Wait);
        cut.WaitForAssertion(() => Assert.Null(cut.Instance.FirstPage), Wait);
    }

    private static List<string> Names(IRenderedComponent<Containers> cut) =>
        cut.FindAll("[data-testid=container-name]").Select(e => e.TextContent).ToList();
}
