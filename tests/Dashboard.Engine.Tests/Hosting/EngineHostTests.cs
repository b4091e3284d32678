using Dashboard.Engine.Hosting;
using Dashboard.Engine.Store;
using Microsoft.Extensions.DependencyInjection;

namespace Dashboard.Engine.Tests.Hosting;

public sealed class EngineHostTests
{
    /// <summary>The engine's store runs on EngineDatabase's connections; no EF Core context factory is registered (issue 4 bench d).</summary>
    [Fact]
    public async Task Build_RegistersEngineDatabaseOnTheDatabasePath_NoEfContext()
    {
        var dir = Directory.CreateTempSubdirectory("deh-").FullName;
        try
        {
            var options = new EngineOptions
            {
                DataRoot = Path.Combine(dir, "data"),
                StateRoot = Path.Combine(dir, "state"),
                Socket = Path.Combine(dir, "engine.sock"),
                SocketGroup = "dashboard-test-no-such-group",
            };
            await using var app = EngineHost.Build(options, logging: _ => { });
            Assert.Equal(options.DatabasePath, app.Services.GetRequiredService<EngineDatabase>().Path);
            Assert.IsType<SqliteContainerStore>(app.Services.GetRequiredService<IContainerStore>());
            Assert.Null(app.Services.GetService<Microsoft.EntityFrameworkCore.IDbContextFactory<EngineDbContext>>());
            Assert.Null(app.Services.GetService<EngineDbContext>());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
