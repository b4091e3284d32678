namespace Dashboard.Engine.Tests.Lifecycle;

/// <summary>Bounded polling for state that an engine reaches asynchronously.</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds:0.#}s waiting for {what}");
            }

            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
    }
}
