using System.Diagnostics;
using System.Globalization;
using Dashboard.Linux;
using Dashboard.Linux.Native;

namespace Dashboard.Runtime.Cgroups;

/// <summary>The wait loop both watchers share: poll the fd in short slices and re-read the counter, which also covers a missed wake-up.</summary>
internal abstract class OomWatcherBase : IOomWatcher
{
    private int _fd;

    protected OomWatcherBase(CgroupFs fs, string counterFile, string key, int fd)
    {
        Fs = fs;
        CounterFile = counterFile;
        Key = key;
        _fd = fd;
    }

    public int Fd => _fd >= 0 ? _fd : throw new ObjectDisposedException(GetType().Name);

    protected CgroupFs Fs { get; }

    protected string CounterFile { get; }

    private string Key { get; }

    public void Acknowledge() => CgroupSyscalls.Drain(Fd);

    public ulong ReadOomKillCount() => ReadCounter(Fs, CounterFile, Key) ?? 0;

    public bool WaitForOomKill(ulong seen, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var count = ReadCounter(Fs, CounterFile, Key);
            if (count is null)
            {
                return false;
            }

            if (count > seen)
            {
                return true;
            }

            var left = timeout - watch.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            if (CgroupSyscalls.PollReadable(Fd, (int)Math.Min(100, Math.Ceiling(left.TotalMilliseconds))))
            {
                Acknowledge();
            }
        }
    }

    public virtual void Dispose()
    {
        if (_fd >= 0)
        {
            CgroupSyscalls.Close(_fd);
            _fd = -1;
        }
    }

    /// <summary>The "key N" counter of a flat-keyed file; null when the cgroup is gone.</summary>
    internal static ulong? ReadCounter(CgroupFs fs, string file, string key)
    {
        var text = fs.TryRead(file);
        if (text is null)
        {
            return null;
        }

        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[0] == key)
            {
                return ulong.Parse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}

/// <summary>
/// v1: an eventfd registered through cgroup.event_control for memory.oom_control fires on every OOM
/// (and when the cgroup is removed); memory.oom_control's <c>oom_kill</c> line counts the kills.
/// </summary>
internal sealed class CgroupV1OomWatcher : OomWatcherBase
{
    private int _controlFd;

    private CgroupV1OomWatcher(CgroupFs fs, string memoryDir, int eventFd, int controlFd)
        : base(fs, memoryDir + "/memory.oom_control", "oom_kill", eventFd)
    {
        _controlFd = controlFd;
    }

    public static CgroupV1OomWatcher Open(CgroupFs fs, string memoryDir)
    {
        var eventFd = CgroupSyscalls.EventFd();
        var controlFd = -1;
        try
        {
            controlFd = CgroupSyscalls.OpenReadOnly(fs.Map(memoryDir + "/memory.oom_control"));
            fs.Write(memoryDir + "/cgroup.event_control", $"{eventFd} {controlFd}");
            return new CgroupV1OomWatcher(fs, memoryDir, eventFd, controlFd);
        }
        catch (SyscallException e)
        {
            Cleanup();
            throw new CgroupException(CgroupErrorKind.Io, $"watch oom in {memoryDir}: {e.Message}", e);
        }
        catch
        {
            Cleanup();
            throw;
        }

        void Cleanup()
        {
            CgroupSyscalls.Close(eventFd);
            if (controlFd >= 0)
            {
                CgroupSyscalls.Close(controlFd);
            }
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        if (_controlFd >= 0)
        {
            CgroupSyscalls.Close(_controlFd);
            _controlFd = -1;
        }
    }
}

/// <summary>v2: inotify on memory.events (the kernel signals a modification when a counter changes); its <c>oom_kill</c> line counts the kills.</summary>
internal sealed class CgroupV2OomWatcher : OomWatcherBase
{
    private CgroupV2OomWatcher(CgroupFs fs, string eventsFile, int fd)
        : base(fs, eventsFile, "oom_kill", fd)
    {
    }

    public static CgroupV2OomWatcher Open(CgroupFs fs, string dir)
    {
        var file = dir + "/memory.events";
        try
        {
            return new CgroupV2OomWatcher(fs, file, CgroupSyscalls.InotifyWatchModify(fs.Map(file)));
        }
        catch (SyscallException e)
        {
            throw new CgroupException(CgroupErrorKind.Io, $"watch oom in {dir}: {e.Message}", e);
        }
    }
}
