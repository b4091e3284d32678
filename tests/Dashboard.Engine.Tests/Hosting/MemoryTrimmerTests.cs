using Dashboard.Engine.Hosting;

namespace Dashboard.Engine.Tests.Hosting;

public sealed class MemoryTrimmerTests
{
    [Fact]
    public void ShouldTrim_QuietAfterGrowth_Trims() =>
        Assert.True(MemoryTrimmer.ShouldTrim(allocatedLastInterval: 10_000, allocatedSinceTrim: MemoryTrimmer.MinGrowthBytes));

    [Fact]
    public void ShouldTrim_StillAllocating_Waits() =>
        Assert.False(MemoryTrimmer.ShouldTrim(allocatedLastInterval: MemoryTrimmer.QuietBytes, allocatedSinceTrim: 100L << 20));

    [Fact]
    public void ShouldTrim_LittleSinceLastTrim_Skips() =>
        Assert.False(MemoryTrimmer.ShouldTrim(allocatedLastInterval: 0, allocatedSinceTrim: MemoryTrimmer.MinGrowthBytes - 1));

    [Fact]
    public async Task ExecuteAsync_Stopped_EndsWithoutError()
    {
        using var trimmer = new MemoryTrimmer(TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<MemoryTrimmer>.Instance);
        await trimmer.StartAsync(TestContext.Current.CancellationToken);
        await trimmer.StopAsync(TestContext.Current.CancellationToken);
        // A stop before the background loop got a thread leaves the task canceled, which is fine; a fault is not.
        Assert.True(trimmer.ExecuteTask!.IsCompleted);
        Assert.False(trimmer.ExecuteTask.IsFaulted);
    }

    [Fact]
    public void TrimNativeHeap_Glibc_ReturnsFreePages() =>
        Assert.True(MemoryTrimmer.TrimNativeHeap(), "malloc_trim not found in libc");
}
