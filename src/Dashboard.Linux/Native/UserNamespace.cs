namespace Dashboard.Linux.Native;

/// <summary>User namespaces made only to carry an id mapping (for MOUNT_ATTR_IDMAP).</summary>
public static class UserNamespace
{
    /// <summary>
    /// Creates a user namespace with the given <c>uid_map</c>/<c>gid_map</c> text ("inside outside
    /// count" lines) and returns an fd of it (close-on-exec). A child is cloned into the new namespace
    /// and held before it runs anything; it is killed once the namespace fd is open, which keeps the
    /// namespace alive.
    /// </summary>
    public static int CreateWithMappings(string uidMap, string gidMap)
    {
        var child = CloneExec.Start(new CloneExecRequest { Flags = CloneFlags.CLONE_NEWUSER });
        try
        {
            ProcFs.Write($"/proc/{child.Pid}/uid_map", uidMap);
            ProcFs.Write($"/proc/{child.Pid}/gid_map", gidMap);
            return Sys.Open($"/proc/{child.Pid}/ns/user", OpenFlags.O_RDONLY);
        }
        finally
        {
            child.Abort();
            child.Dispose();
        }
    }

    /// <summary>The kernel release (uname -r), for messages about kernel support.</summary>
    public static string KernelRelease()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
