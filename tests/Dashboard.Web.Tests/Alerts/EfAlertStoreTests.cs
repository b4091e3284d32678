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
        for (var i = 1; i <= 3; i++)
        {
            await _store.AddNotificationAsync(new AlertNotification { RuleName = "r", Kind = AlertKind.Died, Message = $"m{i}", TimeUtc = DateTime.UtcNow }, Ct);
        }

        var recent = await _store.RecentAsync(2, Ct);
        Assert.Equal(["m3", "m2"], recent.Select(n => n.Message));
        Assert.Equal(3, await _store.UnreadCountAsync(Ct));

        await _store.MarkReadAsync(recent[0].Id, Ct);
        Assert.Equal(2, await _store.UnreadCountAsync(Ct));
        await _store.MarkReadAsync(null, Ct);
        Assert.Equal(0, await _store.UnreadCountAsync(Ct));
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
