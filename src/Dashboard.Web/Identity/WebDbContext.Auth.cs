using Microsoft.EntityFrameworkCore;

namespace Dashboard.Web.Identity;

public sealed partial class WebDbContext
{
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    public DbSet<EngineRoleAssignment> EngineRoleAssignments => Set<EngineRoleAssignment>();
}
