namespace Dashboard.Web.Tests;

/// <summary>
/// Polling for what no render or task signals (background subscriptions, batches, counters). One bound for every
/// test: a loaded 2-core CI machine can take seconds where an idle one takes milliseconds, and the poll returns
/// as soon as the condition holds, so the long bound costs nothing when the test passes.
/// </summary>
internal static class Eventually
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static void Until(Func<bool> condition, string what = "condition")
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} not met within {Timeout.TotalSeconds} s");
            Thread.Sleep(10);
        }
    }

    public static async Task UntilAsync(Func<bool> condition, string what = "condition")
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} not met within {Timeout.TotalSeconds} s");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }
}
