using Dashboard.Engine.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Dashboard.Engine.Tests.Hosting;

public sealed class EngineHostTests
{
    [Fact]
    public void DatabaseOptions_Always_SkipsThePendingModelChangesCheckAndKeepsTheStoreSettings()
    {
        var options = EngineHost.DatabaseOptions("/tmp/engine-host-tests.db");

        var core = options.FindExtension<CoreOptionsExtension>()!;
        Assert.Equal(WarningBehavior.Ignore, core.WarningsConfiguration.GetBehavior(RelationalEventId.PendingModelChangesWarning));
        Assert.Contains(core.Interceptors!, i => i.GetType().Name == "SqlitePragmas");
    }
}
