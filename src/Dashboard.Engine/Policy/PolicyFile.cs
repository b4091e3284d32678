using Dashboard.Linux.Native;

namespace Dashboard.Engine.Policy;

/// <summary>
/// Reads the engine policy file on demand, re-reading it when it changes, so an administrator's edit
/// applies to the next create without a restart. The file must be root's and not writable by group or
/// others (it decides what root containers may do); otherwise, or when it does not parse, every create
/// is refused — the policy fails closed. No file means no policy.
/// </summary>
public sealed class PolicyFile
{
    private readonly Lock _gate = new();
    private (string Path, ulong Ino, long Mtime, long Size)? _key;
    private EnginePolicy? _cached;

    /// <summary>The policy at <paramref name="path"/>, or null when there is no file.</summary>
    public EnginePolicy? Load(string? path)
    {
        if (string.IsNullOrEmpty(path) || !Sys.TryStat(path, follow: false, out var st))
        {
            return null;
        }

        if ((st.Mode & 0xF000) != 0x8000)
        {
            throw new EngineException(ErrorKind.Internal, $"engine policy {path}: not a regular file");
        }

        if (Environment.IsPrivilegedProcess && (st.Uid != 0 || (st.Mode & 0x12) != 0))
        {
            throw new EngineException(ErrorKind.Internal, $"engine policy {path}: must be owned by root and not writable by group or others");
        }

        var key = (path, st.Ino, (st.Mtime.Sec * 1_000_000_000) + st.Mtime.Nsec, (long)st.Size);
        lock (_gate)
        {
            if (_key == key && _cached is not null)
            {
                return _cached;
            }
        }

        var policy = EnginePolicy.Parse(File.ReadAllText(path), path);
        lock (_gate)
        {
            _key = key;
            _cached = policy;
        }

        return policy;
    }
}
