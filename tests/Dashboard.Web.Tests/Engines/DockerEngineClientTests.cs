using Dashboard.Web.Engines;

namespace Dashboard.Web.Tests.Engines;

public class DockerEngineClientTests
{
    [Theory]
    [InlineData("busybox", "busybox:latest")]
    [InlineData("busybox:1.36", "busybox:1.36")]
    [InlineData("localhost:5000/busybox", "localhost:5000/busybox:latest")]
    [InlineData("localhost:5000/busybox:1", "localhost:5000/busybox:1")]
    [InlineData("busybox@sha256:abc", "busybox@sha256:abc")]
    public void WithDefaultTag_AddsLatestOnlyWithoutTagOrDigest(string reference, string expected)
    {
        Assert.Equal(expected, DockerEngineClient.WithDefaultTag(reference));
    }

    [Theory]
    [InlineData("running", ContainerState.Running)]
    [InlineData("Exited", ContainerState.Exited)]
    [InlineData("stopped", ContainerState.Exited)]
    [InlineData("paused", ContainerState.Paused)]
    [InlineData("created", ContainerState.Created)]
    [InlineData(null, ContainerState.Unknown)]
    [InlineData("weird", ContainerState.Unknown)]
    public void ParseState_EngineStrings_MapToStates(string? value, ContainerState expected)
    {
        Assert.Equal(expected, DockerEngineClient.ParseState(value));
    }
}
