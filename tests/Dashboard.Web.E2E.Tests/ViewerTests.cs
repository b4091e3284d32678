using Docker.DotNet.Models;
using Microsoft.Playwright;

namespace Dashboard.Web.E2E.Tests;

/// <summary>A Viewer sees containers and logs but no lifecycle buttons, and the hub refuses the calls themselves (D7).</summary>
public sealed class ViewerTests(DashboardStack stack)
{
    private const string ViewerName = "viewer1";
    private const string ViewerPassword = "e2e-viewer-password-1";

    /// <summary>
    /// Speaks the SignalR JSON protocol by hand from inside the signed-in page (its cookie, its origin): negotiate,
    /// WebSocket, handshake, one invocation. Resolves to "ok" or "error: message".
    /// </summary>
    private const string InvokeHubScript = """
        async ([method, engine, id]) => {
          const negotiate = await fetch('/hubs/containers/negotiate?negotiateVersion=1', { method: 'POST' });
          if (!negotiate.ok) return 'negotiate ' + negotiate.status;
          const token = (await negotiate.json()).connectionToken;
          const RS = '\x1e';
          return await new Promise(resolve => {
            const ws = new WebSocket(`wss://${location.host}/hubs/containers?id=${encodeURIComponent(token)}`);
            let handshaken = false;
            const done = r => { resolve(r); ws.close(); };
            setTimeout(() => done('timeout'), 15000);
            ws.onerror = () => done('websocket error');
            ws.onopen = () => ws.send(JSON.stringify({ protocol: 'json', version: 1 }) + RS);
            ws.onmessage = e => {
              for (const part of e.data.split(RS).filter(p => p.length > 0)) {
                const m = JSON.parse(part);
                if (!handshaken) {
                  handshaken = true;
                  if (m.error) { done('handshake: ' + m.error); return; }
                  ws.send(JSON.stringify({ type: 1, invocationId: '1', target: method, arguments: [engine, id] }) + RS);
                } else if (m.type === 3 && m.invocationId === '1') {
                  done(m.error ? 'error: ' + m.error : 'ok');
                }
              }
            };
          });
        }
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Viewer_ContainerPages_NoActionButtonsAndHubRefusesLifecycleCalls()
    {
        stack.RequireAvailable();
        var admin = await stack.SignInAsAdminAsync(Ct);
        await DashboardStack.GotoAsync(admin, "/users");
        await admin.GetByTestId("new-user-name").FillAsync(ViewerName);
        await admin.GetByTestId("new-user-password").FillAsync(ViewerPassword);
        await admin.GetByTestId("new-user-role").SelectOptionAsync("Viewer");
        await admin.GetByTestId("new-user-create").ClickAsync();
        await Assertions.Expect(admin.GetByTestId("user-name").Filter(new LocatorFilterOptions { HasText = ViewerName })).ToHaveCountAsync(1);
        await DashboardStack.ScreenshotAsync(admin, "10-users");

        const string name = "e2e-viewer";
        var id = await stack.RunBusyboxAsync(name, "trap 'exit 0' TERM; while true; do echo tick; sleep 1; done", Ct);
        try
        {
            // The Admin's list shows the buttons, so their absence for the Viewer is the role, not the page.
            await DashboardStack.GotoAsync(admin, "/containers");
            await admin.GetByTestId("container-name").Filter(new LocatorFilterOptions { HasText = name }).WaitForAsync();
            await Assertions.Expect(admin.GetByTestId("action-stop")).Not.ToHaveCountAsync(0);

            var viewer = await stack.SignInAsync(ViewerName, ViewerPassword);
            await DashboardStack.GotoAsync(viewer, "/containers");
            await viewer.GetByTestId("container-name").Filter(new LocatorFilterOptions { HasText = name }).WaitForAsync();
            await Assertions.Expect(viewer.Locator("[data-testid^=action-]")).ToHaveCountAsync(0);
            await Assertions.Expect(viewer.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "Users" })).ToHaveCountAsync(0);
            await DashboardStack.ScreenshotAsync(viewer, "11-viewer-containers");

            await DashboardStack.GotoAsync(viewer, $"/containers/local/{id}");
            await Assertions.Expect(viewer.GetByTestId("container-title")).ToHaveTextAsync(name);
            await Assertions.Expect(viewer.Locator("[data-testid^=action-]")).ToHaveCountAsync(0);
            await viewer.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Logs" }).ClickAsync();
            await viewer.GetByTestId("log-line").First.WaitForAsync();

            foreach (var method in new[] { "Stop", "Kill", "Remove" })
            {
                var refused = await viewer.EvaluateAsync<string>(InvokeHubScript, new[] { method, "local", id });
                Assert.StartsWith("error: ", refused, StringComparison.Ordinal);
                Assert.Contains("permission denied", refused, StringComparison.Ordinal);
            }

            Assert.True((await stack.Engine.Containers.InspectContainerAsync(id, Ct)).State!.Running);

            // The same call from the Admin's page goes through: the refusal above was authorization, not plumbing.
            Assert.Equal("ok", await admin.EvaluateAsync<string>(InvokeHubScript, new[] { "Stop", "local", id }));
            Assert.False((await stack.Engine.Containers.InspectContainerAsync(id, Ct)).State!.Running);

            // The volumes, networks, alerts and backup pages offer a Viewer no action either (the page checks per call too).
            await stack.Engine.Volumes.CreateAsync(new VolumesCreateParameters { Name = "e2e-viewer-vol" }, Ct);
            await DashboardStack.GotoAsync(viewer, "/volumes");
            await viewer.GetByTestId("volume-row-name").Filter(new LocatorFilterOptions { HasText = "e2e-viewer-vol" }).WaitForAsync();
            await Assertions.Expect(viewer.Locator("[data-testid=volume-create-form], [data-testid=volume-remove], [data-testid=volumes-prune]")).ToHaveCountAsync(0);
            await DashboardStack.ScreenshotAsync(viewer, "12-viewer-volumes");
            await DashboardStack.GotoAsync(admin, "/volumes");
            await Assertions.Expect(admin.GetByTestId("volume-remove")).Not.ToHaveCountAsync(0);
            await DashboardStack.GotoAsync(viewer, "/alerts");
            await viewer.GetByTestId("rules-table").WaitForAsync();
            await Assertions.Expect(viewer.Locator("[data-testid=rule-form], [data-testid=webhook-form], [data-testid=rule-delete]")).ToHaveCountAsync(0);
            await DashboardStack.GotoAsync(viewer, "/admin/backup");
            await viewer.GetByTestId("backup-denied").WaitForAsync();
            await using (var download = await viewer.APIRequest.GetAsync("/backup/web", new APIRequestContextOptions { MaxRedirects = 0 }))
            {
                Assert.NotEqual(200, download.Status);
            }

            await DashboardStack.GotoAsync(admin, "/audit");
            await Assertions.Expect(admin.GetByTestId("audit-outcome").Filter(new LocatorFilterOptions { HasText = "Denied" })).Not.ToHaveCountAsync(0);
            await Assertions.Expect(admin.GetByTestId("audit-user").Filter(new LocatorFilterOptions { HasText = ViewerName })).Not.ToHaveCountAsync(0);
        }
        finally
        {
            await stack.Engine.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, Ct);
            try
            {
                await stack.Engine.Volumes.RemoveAsync("e2e-viewer-vol", cancellationToken: Ct);
            }
            catch (Docker.DotNet.DockerApiException)
            {
            }
        }
    }
}
