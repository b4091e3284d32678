using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;

namespace Dashboard.Web.Tests.Hubs;

public sealed class FakeHubCallerContext(ClaimsPrincipal user) : HubCallerContext
{
    public override string ConnectionId => "connection-1";

    public override string? UserIdentifier => User?.Identity?.Name;

    public override ClaimsPrincipal? User => user;

    public override IDictionary<object, object?> Items { get; } = new Dictionary<object, object?>();

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override CancellationToken ConnectionAborted => CancellationToken.None;

    public override void Abort()
    {
    }
}
