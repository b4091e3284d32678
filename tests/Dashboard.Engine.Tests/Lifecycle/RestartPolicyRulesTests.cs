using Dashboard.Engine.Api;
using Dashboard.Engine.Containers;

namespace Dashboard.Engine.Tests.Lifecycle;

public sealed class RestartPolicyRulesTests
{
    [Theory]
    [InlineData("no", 0, 1, false, 0, false)]
    [InlineData("", 0, 1, false, 0, false)]
    [InlineData("always", 0, 0, false, 0, true)]
    [InlineData("always", 0, 0, true, 5, true)]
    [InlineData("unless-stopped", 0, 0, false, 0, true)]
    [InlineData("unless-stopped", 0, 1, true, 0, false)]
    [InlineData("on-failure", 0, 0, false, 0, false)]
    [InlineData("on-failure", 0, 1, false, 100, true)]
    [InlineData("on-failure", 3, 1, false, 2, true)]
    [InlineData("on-failure", 3, 1, false, 3, false)]
    [InlineData("on-failure", 3, 137, true, 0, true)]
    public void ShouldRestart_PolicyTable_MatchesMoby(string name, int max, int exitCode, bool manuallyStopped, int restartCount, bool expected) =>
        Assert.Equal(expected, RestartPolicyRules.ShouldRestart(new RestartPolicy { Name = name, MaximumRetryCount = max }, exitCode, manuallyStopped, restartCount));

    [Theory]
    [InlineData("sometimes", 0, false, "unknown policy")]
    [InlineData("always", 2, false, "maximum retry count can only be used with 'on-failure'")]
    [InlineData("on-failure", -1, false, "cannot be negative")]
    [InlineData("always", 0, true, "cannot specify both --restart and --rm")]
    public void Validate_BadPolicy_InvalidArgument(string name, int max, bool autoRemove, string message)
    {
        var e = Assert.Throws<EngineException>(() => RestartPolicyRules.Validate(new RestartPolicy { Name = name, MaximumRetryCount = max }, autoRemove));
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Validate_NoPolicyWithAutoRemove_Accepted() =>
        RestartPolicyRules.Validate(new RestartPolicy { Name = "no" }, autoRemove: true);

    [Fact]
    public void Backoff_QuickExits_DoubleFrom100msCappedAtOneMinute()
    {
        var backoff = new RestartBackoff();
        var delays = Enumerable.Range(0, 12).Select(_ => backoff.Next(TimeSpan.FromSeconds(1)).TotalMilliseconds).ToList();
        Assert.Equal([100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000], delays);
    }

    [Fact]
    public void Backoff_ContainerRanTenSeconds_ResetsTo100ms()
    {
        var backoff = new RestartBackoff();
        backoff.Next(TimeSpan.Zero);
        backoff.Next(TimeSpan.Zero);
        Assert.Equal(TimeSpan.FromMilliseconds(400), backoff.Next(TimeSpan.FromSeconds(9.9)));
        Assert.Equal(TimeSpan.FromMilliseconds(100), backoff.Next(TimeSpan.FromSeconds(10)));
    }
}
