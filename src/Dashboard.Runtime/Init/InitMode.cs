using Dashboard.Linux.Native;

namespace Dashboard.Runtime.Init;

/// <summary>
/// Chooses how the in-container stage starts. In-process (the clone child runs init directly) saves
/// a copy of the runtime into a memfd, an exec and a second runtime start-up per container; it is
/// used only when our executable cannot be overwritten from a container (see
/// <see cref="ExeSeal.SelfIsProtected"/>) and the process is quiescent. Otherwise, or with
/// <c>DASHBOARD_RUNTIME_REEXEC=1</c>, init re-executes a sealed memfd copy (runc's defence).
/// </summary>
public static class InitMode
{
    public const string ForceReexecVariable = "DASHBOARD_RUNTIME_REEXEC";

    private static readonly Lazy<bool> s_exeProtected = new(() => ExeSeal.SelfIsProtected());

    public static bool InProcess() =>
        Environment.GetEnvironmentVariable(ForceReexecVariable) != "1" && s_exeProtected.Value && CloneExec.IsQuiescent();
}
