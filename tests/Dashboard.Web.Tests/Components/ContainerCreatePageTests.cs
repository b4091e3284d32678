using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Fakes;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Components;

public class ContainerCreatePageTests : DashboardTestContext
{
    public ContainerCreatePageTests()
        : base(services => services.AddScoped<CreateActions>())
    {
        Engine.SetDetails(FakeEngineClient.Details("old1", "web", ContainerState.Running));
        Engine.CreateRequests["old1"] = new ContainerCreateRequest
        {
            Image = "busybox", Name = "web", Command = ["sh", "-c", "echo hi"], Env = ["A=1"], Ports = [new PortPublish(80, "tcp", null, 8080)],
        };
    }

    [Fact]
    public void Viewer_Page_RefusedAndNoForm()
    {
        var cut = RenderPage();

        Assert.Contains("permission denied", cut.Find("[data-testid=create-error]").TextContent, StringComparison.Ordinal);
        Assert.Empty(cut.FindAll("[data-testid=create-form]"));
    }

    [Fact]
    public void Operator_TypesForm_RunLineFollowsAndCreateStarts()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderPage();

        cut.Input("[data-testid=field-image]", "busybox");
        cut.Input("[data-testid=field-name]", "printer");
        cut.Input("[data-testid=field-command]", "sh -c 'echo hi'");
        Assert.Equal("docker run -d --name printer busybox sh -c 'echo hi'", cut.Find("[data-testid=run-line]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=field-privileged]"));

        cut.Click("[data-testid=create-submit]");

        cut.WaitForAssertion(() => Assert.Single(Engine.Created), Wait);
        Assert.Equal(["sh", "-c", "echo hi"], Engine.Created.Single().Command);
        Assert.Contains(("start", "new1"), Engine.Calls);
        Assert.EndsWith("/containers/local/new1", Services.GetRequiredService<NavigationManager>().Uri, StringComparison.Ordinal);
        Assert.Contains(Audit.Recent(10), e => e.Action == "CreateContainer" && e.Outcome == AuditOutcome.Succeeded);
    }

    [Fact]
    public void Operator_BindMount_WarnedAndRefusedOnTheServer()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderPage();
        cut.Input("[data-testid=field-image]", "busybox");
        cut.Input("[data-testid=field-volumes]", "/:/host");

        Assert.Contains("bind mount /:/host", cut.Find("[data-testid=policy-warning]").TextContent, StringComparison.Ordinal);
        cut.Click("[data-testid=create-submit]");

        cut.WaitForAssertion(() => Assert.Contains("permission denied", cut.Find("[data-testid=create-error]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Empty(Engine.Created);
        Assert.Contains(Audit.Recent(10), e => e.Action == "CreateContainer" && e.Outcome == AuditOutcome.Denied);
    }

    [Fact]
    public void Admin_SeesDangerousFieldsAndMayUseThem()
    {
        Access.Roles = [Roles.Admin];
        var cut = RenderPage();
        cut.Input("[data-testid=field-image]", "busybox");
        cut.Change("[data-testid=field-privileged]", true);

        cut.Click("[data-testid=create-submit]");

        cut.WaitForAssertion(() => Assert.True(Assert.Single(Engine.Created).Privileged), Wait);
    }

    [Fact]
    public void Clone_PrefillsEverythingButTheName()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderPage("?mode=clone&from=old1");

        cut.WaitForAssertion(() => Assert.Equal("busybox", cut.Find("[data-testid=field-image]").GetAttribute("value")), Wait);
        Assert.Equal("", cut.Find("[data-testid=field-name]").GetAttribute("value"));
        Assert.Equal("sh -c 'echo hi'", cut.Find("[data-testid=field-command]").GetAttribute("value"));
        Assert.Equal("docker run -d -e A=1 -p 8080:80/tcp busybox sh -c 'echo hi'", cut.Find("[data-testid=run-line]").TextContent);
    }

    [Fact]
    public void Edit_Submit_RecreatesUnderTheSameName()
    {
        Access.Roles = [Roles.Operator];
        var cut = RenderPage("?mode=edit&from=old1");
        cut.WaitForAssertion(() => Assert.Equal("web", cut.Find("[data-testid=field-name]").GetAttribute("value")), Wait);
        cut.Input("[data-testid=field-env]", "A=2");

        cut.Click("[data-testid=create-submit]");

        cut.WaitForAssertion(() => Assert.Contains(("remove", "old1"), Engine.Calls), Wait);
        var created = Assert.Single(Engine.Created);
        Assert.Equal("web", created.Name);
        Assert.Equal(["A=2"], created.Env);
        var order = Engine.Calls.Select(c => $"{c.Action} {c.Id}").ToList();
        Assert.Equal(["stop old1", "rename:web-replaced-old1 old1", "create web", "remove old1", "start new1"], order);
    }

    [Fact]
    public void Edit_CreateFails_OldContainerRestored()
    {
        Access.Roles = [Roles.Operator];
        Engine.FailCreateWith = new EngineException(EngineErrorKind.InvalidRequest, "create container web: no such image");
        var cut = RenderPage("?mode=edit&from=old1");
        cut.WaitForAssertion(() => Assert.Equal("web", cut.Find("[data-testid=field-name]").GetAttribute("value")), Wait);

        cut.Click("[data-testid=create-submit]");

        cut.WaitForAssertion(() => Assert.Contains("no such image", cut.Find("[data-testid=create-error]").TextContent, StringComparison.Ordinal), Wait);
        var order = Engine.Calls.Select(c => $"{c.Action} {c.Id}").ToList();
        Assert.Equal(["stop old1", "rename:web-replaced-old1 old1", "rename:web old1", "start old1"], order);
    }

    private IRenderedComponent<ContainerCreate> RenderPage(string query = "")
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo("/containers/new" + query);
        return Render<ContainerCreate>();
    }
}
