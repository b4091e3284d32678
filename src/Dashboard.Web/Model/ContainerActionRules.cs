using Dashboard.Web.Engines;
using Dashboard.Web.Security;

namespace Dashboard.Web.Model;

/// <summary>Which lifecycle actions make sense in which state (what the UI offers; the engine has the last word).</summary>
public static class ContainerActionRules
{
    public static IReadOnlyList<ContainerAction> ForState(ContainerState state) => state switch
    {
        ContainerState.Running => [ContainerAction.Stop, ContainerAction.Restart, ContainerAction.Pause, ContainerAction.Kill, ContainerAction.Remove],
        ContainerState.Paused => [ContainerAction.Unpause, ContainerAction.Stop, ContainerAction.Kill, ContainerAction.Remove],
        ContainerState.Restarting => [ContainerAction.Stop, ContainerAction.Kill, ContainerAction.Remove],
        ContainerState.Created or ContainerState.Exited or ContainerState.Dead => [ContainerAction.Start, ContainerAction.Restart, ContainerAction.Remove],
        _ => [ContainerAction.Remove],
    };
}
