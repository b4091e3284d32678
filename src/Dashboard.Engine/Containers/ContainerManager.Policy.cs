using Dashboard.Engine.Policy;
using Dashboard.Oci.Runtime;

namespace Dashboard.Engine.Containers;

public sealed partial class ContainerManager
{
    private readonly PolicyFile _policyFile = new();

    /// <summary>
    /// Applies the engine policy to the spec that will run (security.md D4: decided on what is executed,
    /// after every API field was turned into the spec). Volumes and this container's own files are
    /// engine-made bind mounts, not host paths the caller chose.
    /// </summary>
    private void CheckPolicy(string id, Spec spec)
    {
        if (_policyFile.Load(_options.PolicyFile) is not { } policy)
        {
            return;
        }

        var managed = new[] { Path.Combine(_options.DataRoot, "volumes"), ContainerDir(id) };
        var violations = policy.Check(spec, managed);
        if (violations.Count > 0)
        {
            _log.LogWarning("create refused by the engine policy: {Violations}", string.Join("; ", violations));
            throw new EngineException(ErrorKind.PermissionDenied, "refused by the engine policy: " + string.Join("; ", violations));
        }
    }
}
