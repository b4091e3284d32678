using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Playwright;

namespace Dashboard.Web.E2E.Tests;

/// <summary>An Admin drives a real busybox container through the UI: list, live logs, stats, stop, remove.</summary>
public sealed class AdminFlowTests(DashboardStack stack)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Container_PulledInImagesPageCreatedInFormLiveLogsThenStopAndRemove_GoneFromEngineAndList()
    {
        stack.RequireAvailable();
        var page = await stack.SignInAsAdminAsync(Ct);
        const string name = "e2e-logs";

        // Nothing is preloaded: the image comes from the local registry through the Images page's pull.
        await DashboardStack.GotoAsync(page, "/images");
        await page.GetByTestId("pull-form").Locator("input").FillAsync(stack.UiImageName);
        await page.GetByTestId("pull").ClickAsync();
        await Assertions.Expect(page.GetByTestId("pull-status")).ToContainTextAsync("Status:", new LocatorAssertionsToContainTextOptions { Timeout = 60_000 });
        await Assertions.Expect(page.GetByTestId("pull-error")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("image-tags").Filter(new LocatorFilterOptions { HasText = stack.UiImageName }))
            .ToHaveCountAsync(1, new LocatorAssertionsToHaveCountOptions { Timeout = 20_000 });
        await DashboardStack.ScreenshotAsync(page, "03-images-pulled");

        await DashboardStack.GotoAsync(page, "/containers");
        await page.GetByTestId("container-new").ClickAsync();
        await page.GetByTestId("create-form").WaitForAsync();
        await page.GetByTestId("field-image").FillAsync(stack.UiImageName);
        await page.GetByTestId("field-name").FillAsync(name);

        // Network "none": see DashboardStack.RunBusyboxAsync (a bridge appearing on the host resets Chromium's connections).
        await page.GetByTestId("field-network").FillAsync("none");

        // The trap lets sh (PID 1, which ignores SIGTERM by default) end at once on stop.
        await page.GetByTestId("field-command").FillAsync("sh -c 'trap \"exit 0\" TERM; i=0; while true; do i=$((i+1)); echo \"line $i\"; sleep 0.2; done'");
        await Assertions.Expect(page.GetByTestId("run-line")).ToHaveTextAsync(
            $"docker run -d --name e2e-logs --network none {stack.UiImageName} sh -c 'trap \"exit 0\" TERM; i=0; while true; do i=$((i+1)); echo \"line $i\"; sleep 0.2; done'");
        await DashboardStack.ScreenshotAsync(page, "03-create");
        await page.GetByTestId("create-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("container-title")).ToHaveTextAsync(name, new LocatorAssertionsToHaveTextOptions { Timeout = 20_000 });
        var id = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        Assert.True((await stack.Engine.Containers.InspectContainerAsync(id, Ct)).State!.Running);

        await DashboardStack.GotoAsync(page, "/containers");
        var link = page.GetByTestId("container-name").Filter(new LocatorFilterOptions { HasText = name });
        await link.WaitForAsync();
        await DashboardStack.ScreenshotAsync(page, "04-containers");
        await link.ClickAsync();
        await Assertions.Expect(page.GetByTestId("container-title")).ToHaveTextAsync(name);
        await DashboardStack.ScreenshotAsync(page, "05-container-overview");

        await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Logs" }).ClickAsync();
        var lines = page.GetByTestId("log-line");
        await lines.First.WaitForAsync();
        var seen = LastNumber(await lines.AllInnerTextsAsync());

        // Lines written after the page opened arrive without a reload: the follow stream is live.
        await Assertions.Expect(lines.Filter(new LocatorFilterOptions { HasTextRegex = new Regex($"^line {seen + 5}$") }))
            .ToHaveCountAsync(1, new LocatorAssertionsToHaveCountOptions { Timeout = 10_000 });
        await DashboardStack.ScreenshotAsync(page, "06-container-logs");

        await page.GetByTestId("action-stop").ClickAsync();

        // Start is offered only once the container has stopped.
        await Assertions.Expect(page.GetByTestId("action-start")).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 20_000 });
        var stopped = await stack.Engine.Containers.InspectContainerAsync(id, Ct);
        Assert.False(stopped.State!.Running);

        await page.GetByTestId("action-remove").ClickAsync();
        // Blazor navigates in the page (history.pushState): wait for the URL, not for a load event; removing
        // a container that was just stopped can take a while on a busy machine.
        await page.WaitForURLAsync(u => u.EndsWith("/containers", StringComparison.Ordinal), new PageWaitForURLOptions { WaitUntil = WaitUntilState.Commit, Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("container-name").Filter(new LocatorFilterOptions { HasText = name })).ToHaveCountAsync(0);
        await Assert.ThrowsAsync<DockerContainerNotFoundException>(() => stack.Engine.Containers.InspectContainerAsync(id, Ct));
    }

    [Fact]
    public async Task StatsTab_BusyContainer_CpuChartMoves()
    {
        stack.RequireAvailable();
        var page = await stack.SignInAsAdminAsync(Ct);
        var id = await stack.RunBusyboxAsync("e2e-cpu", "trap 'exit 0' TERM; while true; do :; done", Ct);
        try
        {
            await RequireEngineStatsAsync(id);
            await DashboardStack.GotoAsync(page, $"/containers/local/{id}");
            await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Stats" }).ClickAsync();
            var chart = page.GetByTestId("stats-cpu-chart").Locator("polyline");
            await chart.WaitForAsync();
            var first = await chart.GetAttributeAsync("points") ?? "";

            // A new sample every second redraws the line; a busy loop keeps CPU above zero.
            await Assertions.Expect(chart).Not.ToHaveAttributeAsync("points", first, new LocatorAssertionsToHaveAttributeOptions { Timeout = 10_000 });
            await Assertions.Expect(page.GetByTestId("stats-cpu")).Not.ToHaveTextAsync(new Regex("^(–|0(\\.0+)? ?%)$"));
            await DashboardStack.ScreenshotAsync(page, "06b-container-stats");
        }
        finally
        {
            await stack.Engine.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, Ct);
        }
    }

    [Fact]
    public async Task MainPages_Render_ScreenshotsSaved()
    {
        stack.RequireAvailable();
        var page = await stack.SignInAsAdminAsync(Ct);
        foreach (var (path, name) in new[] { ("/images", "07-images"), ("/events", "08-events"), ("/audit", "09-audit") })
        {
            await DashboardStack.GotoAsync(page, path);
            await page.Locator("h1").First.WaitForAsync();
            await DashboardStack.ScreenshotAsync(page, name);
            Assert.True(File.Exists(Path.Combine(DashboardStack.ScreenshotDir, name + ".png")));
        }

        // The audit log saw the admin's sign-in through the real form post.
        await DashboardStack.GotoAsync(page, "/audit");
        await Assertions.Expect(page.Locator("body")).ToContainTextAsync("SignIn");
    }

    [Fact]
    public async Task Terminal_EchoInShell_OutputShownAndSessionAudited()
    {
        stack.RequireAvailable();
        var page = await stack.SignInAsAdminAsync(Ct);
        var id = await stack.RunBusyboxAsync("e2e-terminal", "trap 'exit 0' TERM; while true; do sleep 1; done", Ct);
        try
        {
            await RequireEngineExecAsync(id);
            await DashboardStack.GotoAsync(page, $"/containers/local/{id}");
            await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Terminal" }).ClickAsync();
            await page.GetByTestId("terminal-shell").SelectOptionAsync("sh");
            await page.GetByTestId("terminal-connect").ClickAsync();
            await Assertions.Expect(page.GetByTestId("terminal-status")).ToHaveTextAsync("connected (sh)");
            var screen = page.GetByTestId("terminal-host").Locator(".xterm-rows");

            // The shell computes the number, so "e2e-42" on screen is the shell's output, not the echoed keystrokes.
            await page.GetByTestId("terminal-host").ClickAsync();
            await page.Keyboard.TypeAsync("echo e2e-$((6*7))");
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(screen).ToContainTextAsync("e2e-42", new LocatorAssertionsToContainTextOptions { Timeout = 10_000 });
            await DashboardStack.ScreenshotAsync(page, "12-terminal");

            await page.Keyboard.TypeAsync("exit");
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page.GetByTestId("terminal-status")).ToContainTextAsync("session ended", new LocatorAssertionsToContainTextOptions { Timeout = 10_000 });

            await DashboardStack.GotoAsync(page, "/audit");
            await Assertions.Expect(page.GetByTestId("audit-action").Filter(new LocatorFilterOptions { HasText = "TerminalStart" })).Not.ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByTestId("audit-action").Filter(new LocatorFilterOptions { HasText = "TerminalEnd" })).Not.ToHaveCountAsync(0);
        }
        finally
        {
            await stack.Engine.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, Ct);
        }
    }

    private async Task RequireEngineExecAsync(string id)
    {
        try
        {
            await stack.Engine.Exec.CreateContainerExecAsync(id, new ContainerExecCreateParameters { Cmd = ["true"] }, Ct);
        }
        catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            Dashboard.Testing.Requires.Unmet($"the engine has no POST /containers/{{id}}/exec yet ({e.Message.Trim()})");
        }
    }

    private async Task RequireEngineStatsAsync(string id)
    {
        try
        {
            await stack.Engine.Containers.GetContainerStatsAsync(id, new ContainerStatsParameters { Stream = false, OneShot = true }, new Progress<ContainerStatsResponse>(), Ct);
        }
        catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            Dashboard.Testing.Requires.Unmet($"the engine has no GET /containers/{{id}}/stats yet ({e.Message.Trim()})");
        }
    }

    private static int LastNumber(IReadOnlyList<string> texts) =>
        texts.Select(t => Regex.Match(t, @"line (\d+)")).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max();
}
