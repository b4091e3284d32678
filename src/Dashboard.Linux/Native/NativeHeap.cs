using System.Runtime.InteropServices;

namespace Dashboard.Linux.Native;

/// <summary>The C library's heap, for long-running managed processes that want its free pages returned.</summary>
public static partial class NativeHeap
{
    /// <summary>Returns the free pages of every malloc arena to the system; false where the C library has no malloc_trim (musl).</summary>
    public static bool TryTrim()
    {
        try
        {
            _ = malloc_trim(0);
            return true;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);
}
