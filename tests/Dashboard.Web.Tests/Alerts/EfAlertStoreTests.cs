using Dashboard.Web.Alerts;
using Dashboard.Web.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Web.Tests.Alerts;

/// <summary>The alert store on a migrated web database file.</summary>
public sealed class EfAlertStoreTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "dashboard-web-alerts-" + Guid.NewGuid().ToString("N") + ".db");
    private readonly ServiceProvider _services;
    private readonly EfAlertStore _store;

    public EfAlertStoreTests()
    {
        _services = new ServiceCollection().AddDbContext<WebDbContext>(o => o.UseSqlite($"Data Source={_path};Pooling=False")).BuildServiceProvider();
        using (var scope = _services.CreateScope())
        {
            scope.ServiceProvider.GetRequiredService<WebDbContext>().Database.Migrate();
        }

        _store = new EfAlertStore(_services.GetRequiredService<IServiceScopeFactory>());
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        File.Delete(_path);
    }

    [Fact]
    public async Task Rules_SaveUpdateDelete_RoundTrip()
    {
        var saved = await _store.SaveRuleAsync(new AlertRule { Name = "hot", Kind = AlertKind.CpuAbove, Threshold = 90, Minutes = 3, ContainerFilter = "db" }, Ct);
        Assert.NotEqual(0, saved.Id);

        saved.Enabled = false;
        await _store.SaveRuleAsync(saved, Ct);
        var listed = Assert.Single(await _store.ListRulesAsync(Ct));
        Assert.Equal((AlertKind.CpuAbove, 90.0, 3, "db", false), (listed.Kind, listed.Threshold, listed.Minutes, listed.ContainerFilter, listed.Enabled));

        await _store.DeleteRuleAsync(saved.Id, Ct);
        Assert.Empty(await _store.ListRulesAsync(Ct));
    }

    [Fact]
    public async Task Notifications_NewestFirstUnreadCountAndMarkRead()
    {
        await AddUsersAsync("alice");
        await AddNotificationsAsync(3);

        var recent = await _store.RecentAsync("alice", [], 2, Ct);
        Assert.Equal(["m3", "m2"], recent.Select(n => n.Message));
        Assert.Equal(3, await _store.UnreadCountAsync("alice", [], Ct));

        await _store.MarkReadAsync("alice", recent[0].Id, Ct);
        Assert.Equal(2, await _store.UnreadCountAsync("alice", [], Ct));
        Assert.Equal([true, false], (await _store.RecentAsync("alice", [], 2, Ct)).Select(n => n.Read));
        await _store.MarkReadAsync("alice", null, Ct);
        Assert.Equal(0, await _store.UnreadCountAsync("alice", [], Ct));
        Assert.All(await _store.RecentAsync("alice", [], 10, Ct), n => Assert.True(n.Read));
    }

    [Fact]
    public async Task ReadState_IsPerUser()
    {
        await AddUsersAsync("alice", "bob");
        await AddNotificationsAsync(3);
        var newest = (await _store.RecentAsync("alice", [], 1, Ct))[0].Id;

        await _store.MarkReadAsync("alice", null, Ct);
        await _store.MarkReadAsync("bob", newest, Ct);
        await _store.MarkReadAsync("bob", newest, Ct);

        Assert.Equal(0, await _store.UnreadCountAsync("alice", [], Ct));
        Assert.Equal(2, await _store.UnreadCountAsync("bob", [], Ct));
        Assert.Equal([true, false, false], (await _store.RecentAsync("bob", [], 10, Ct)).Select(n => n.Read));
    }

    [Fact]
    public async Task MarkAllRead_LaterAlertsStayUnread_SingleReadsAboveStillCount()
    {
        await AddUsersAsync("alice");
        await AddNotificationsAsync(2);
        await _store.MarkReadAsync("alice", null, Ct);

        await AddNotificationsAsync(2);
        var newest = (await _store.RecentAsync("alice", [], 1, Ct))[0].Id;
        await _store.MarkReadAsync("alice", newest, Ct);

        Assert.Equal(1, await _store.UnreadCountAsync("alice", [], Ct));
        Assert.Equal([true, false, true, true], (await _store.RecentAsync("alice", [], 10, Ct)).Select(n => n.Read));
        await _store.MarkReadAsync("alice", null, Ct);
        Assert.Equal(0, await _store.UnreadCountAsync("alice", [], Ct));
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WebDbContext>();
        Assert.Equal(0, await db.Set<AlertRead>().CountAsync(Ct));
        Assert.Equal(newest, (await db.Set<AlertReadState>().SingleAsync(Ct)).ReadThroughId);
    }

    [Fact]
    public async Task DeletedUser_ReadStateGoesWithThem()
    {
        await AddUsersAsync("alice");
        await AddNotificationsAsync(2);
        await _store.MarkReadAsync("alice", (await _store.RecentAsync("alice", [], 1, Ct))[0].Id, Ct);
        await _store.MarkReadAsync("alice", null, Ct);
        await _store.MarkReadAsync("alice", 999, Ct);

        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WebDbContext>();
        await db.Users.Where(u => u.Id == "alice").ExecuteDeleteAsync(Ct);

        Assert.Equal(0, await db.Set<AlertReadState>().CountAsync(Ct));
        Assert.Equal(0, await db.Set<AlertRead>().CountAsync(Ct));
        Assert.Equal(2, await _store.UnreadCountAsync("alice", [], Ct));
    }

    private async Task AddUsersAsync(params string[] ids)
    {
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WebDbContext>();
        foreach (var id in ids)
        {
            db.Users.Add(new WebUser { Id = id, UserName = id, NormalizedUserName = id.ToUpperInvariant() });
        }

        await db.SaveChangesAsync(Ct);
    }

    private async Task AddNotificationsAsync(int count)
    {
        var existing = (await _store.RecentAsync("nobody", [], 1000, Ct)).Count;
        for (var i = existing + 1; i <= existing + count; i++)
        {
            await _store.AddNotificationAsync(new AlertNotification { RuleName = "r", Kind = AlertKind.Died, Message = $"m{i}", TimeUtc = DateTime.UtcNow }, Ct);
        }
    }

    [Fact]
    public async Task WebhookUrl_SetChangeClear()
    {
        Assert.Null(await _store.GetWebhookUrlAsync(Ct));
        await _store.SetWebhookUrlAsync("https://a.example/", Ct);
        await _store.SetWebhookUrlAsync("https://b.example/", Ct);
        Assert.Equal("https://b.example/", await _store.GetWebhookUrlAsync(Ct));
        await _store.SetWebhookUrlAsync(null, Ct);
        Assert.Null(await _store.GetWebhookUrlAsync(Ct));
    }
}
