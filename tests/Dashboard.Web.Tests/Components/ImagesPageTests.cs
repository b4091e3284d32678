using Bunit;
using Dashboard.Web.Components.Pages;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Dashboard.Web.Tests.Fakes;

namespace Dashboard.Web.Tests.Components;

public class ImagesPageTests : DashboardTestContext
{
    public ImagesPageTests()
    {
        Engine.Images.Add(new ImageSummary("sha256:aaaaaaaaaaaaaaaaaaaa", ["busybox:latest"], 4_400_000, DateTimeOffset.UnixEpoch, 2));
        Engine.Images.Add(new ImageSummary("sha256:bbbbbbbbbbbbbbbbbbbb", ["nginx:1"], 190_000_000, DateTimeOffset.UnixEpoch, 0));
        Engine.Images.Add(new ImageSummary("sha256:cccccccccccccccccccc", [], 1_000, DateTimeOffset.UnixEpoch, 0));
    }

    [Fact]
    public void Render_ListsImagesWithUsage()
    {
        var cut = Render<Images>();

        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=image-tags]").Count), Wait);
        Assert.Equal(["busybox:latest", "nginx:1", "<none>"], cut.FindAll("[data-testid=image-tags]").Select(e => e.TextContent));
        Assert.Equal(["in use (2)", "unused", "dangling"], cut.FindAll("[data-testid=image-usage]").Select(e => e.TextContent));
        Assert.Contains("181.2 MiB", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void Viewer_HasNoPullOrRemove()
    {
        var cut = Render<Images>();

        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=image-tags]").Count), Wait);
        Assert.Empty(cut.FindAll("[data-testid=pull-form]"));
        Assert.Empty(cut.FindAll("[data-testid=image-remove]"));
    }

    [Fact]
    public void Operator_Pull_ShowsLayerProgressAndAudits()
    {
        Access.Roles = [Roles.Operator];
        Engine.PullBatches.Add([new PullProgress(null, "Pulling from library/alpine", null, null, null), new PullProgress("l1", "Downloading", 50, 100, null)]);
        Engine.PullBatches.Add([new PullProgress("l1", "Pull complete", null, null, null), new PullProgress(null, "Status: Downloaded newer image for alpine:3", null, null, null)]);
        var cut = Render<Images>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=pull-form]")), Wait);

        cut.Input("[data-testid=pull-form] input", "alpine:3");
        cut.Click("[data-testid=pull]");

        cut.WaitForAssertion(() => Assert.Equal("Status: Downloaded newer image for alpine:3", cut.Find("[data-testid=pull-status]").TextContent), Wait);
        Assert.Equal("Pull complete", cut.Find("[data-testid=layer-status]").TextContent);
        Assert.Contains(("pull", "alpine:3"), Engine.Calls);
        cut.WaitForAssertion(() => Assert.Contains(Audit.Recent(10), e => e.Action == "PullImage" && e.Outcome == AuditOutcome.Succeeded), Wait);
    }

    [Fact]
    public void Operator_PullError_IsShown()
    {
        Access.Roles = [Roles.Operator];
        Engine.PullBatches.Add([new PullProgress(null, "", null, null, "manifest unknown: <script>")]);
        var cut = Render<Images>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=pull-form]")), Wait);

        cut.Input("[data-testid=pull-form] input", "nope:1");
        cut.Click("[data-testid=pull]");

        cut.WaitForAssertion(() => Assert.Equal("manifest unknown: <script>", cut.Find("[data-testid=pull-error]").TextContent.Trim()), Wait);
        Assert.Empty(cut.FindAll("[data-testid=pull-progress] script"));
        cut.WaitForAssertion(() => Assert.Contains(Audit.Recent(10), e => e.Action == "PullImage" && e.Outcome == AuditOutcome.Failed), Wait);
    }

    [Fact]
    public void Operator_PullInvalidReference_IsRefusedBeforeEngine()
    {
        Access.Roles = [Roles.Operator];
        var cut = Render<Images>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=pull-form]")), Wait);

        cut.Input("[data-testid=pull-form] input", "--help");
        cut.Click("[data-testid=pull]");

        cut.WaitForAssertion(() => Assert.Equal("pull --help: invalid image reference", cut.Find("[data-testid=pull-error]").TextContent.Trim()), Wait);
        Assert.Empty(Engine.Calls);
    }

    [Fact]
    public void Operator_Remove_CallsEngine()
    {
        Access.Roles = [Roles.Operator];
        var cut = Render<Images>();
        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=image-remove]").Count), Wait);

        cut.Dispatch(() => cut.FindAll("[data-testid=image-remove]")[1], e => e.Click());

        cut.WaitForAssertion(() => Assert.Contains(("remove-image", "sha256:bbbbbbbbbbbbbbbbbbbb"), Engine.Calls), Wait);
    }

    [Fact]
    public async Task ImageEvent_ReloadsList()
    {
        var cut = Render<Images>();
        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid=image-tags]").Count), Wait);

        Engine.Images.Add(new ImageSummary("sha256:dddddddddddddddddddd", ["redis:7"], 1, DateTimeOffset.UnixEpoch, 0));
        await Engine.PublishAsync(new EngineEvent(EngineEventType.Image, "pull", "redis:7", new Dictionary<string, string>(), DateTimeOffset.UtcNow));

        cut.WaitForAssertion(() => Assert.Equal(4, cut.FindAll("[data-testid=image-tags]").Count), Wait);
    }

    [Fact]
    public void NoRole_ShowsPermissionError()
    {
        Access.Roles = [];

        var cut = Render<Images>();

        cut.WaitForAssertion(() => Assert.Equal("list images: permission denied", cut.Find("[data-testid=images-error]").TextContent.Trim()), Wait);
    }
}
