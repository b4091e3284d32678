using Dashboard.Web.Engines;
using Dashboard.Web.Model;

namespace Dashboard.Web.Tests.Model;

public class ContainerFormTests
{
    [Fact]
    public void ToRequest_AllFields_ParsedIntoRequest()
    {
        var form = new ContainerForm
        {
            Image = " busybox:1.36 ",
            Name = "web",
            Command = "sh -c 'echo \"hi there\"; sleep 5'",
            Entrypoint = "/bin/tini --",
            Env = "A=1\n\nB=two words\n",
            Labels = "app=web\ntier=front",
            Ports = "8080:80\n127.0.0.1:5353:53/udp\n9000",
            Volumes = "data:/data\n/srv/www:/www:ro",
            MemoryMiB = "256",
            Cpus = "0.5",
            PidsLimit = "100",
            RestartPolicy = "on-failure",
            RestartMaxRetries = "3",
            HealthCommand = "wget -q -O- localhost",
            HealthIntervalSeconds = "10",
            HealthTimeoutSeconds = "2",
            HealthRetries = "4",
            Network = "bridge",
            User = "1000:1000",
            CapAdd = "NET_BIND_SERVICE, CHOWN",
            CapDrop = "ALL",
            ReadOnlyRootfs = true,
            Tty = true,
        };

        var (r, errors) = form.ToRequest();

        Assert.Empty(errors);
        Assert.NotNull(r);
        Assert.Equal("busybox:1.36", r.Image);
        Assert.Equal(["sh", "-c", "echo \"hi there\"; sleep 5"], r.Command);
        Assert.Equal(["/bin/tini", "--"], r.Entrypoint);
        Assert.Equal(["A=1", "B=two words"], r.Env);
        Assert.Equal("front", r.Labels["tier"]);
        Assert.Equal([new PortPublish(80, "tcp", null, 8080), new PortPublish(53, "udp", "127.0.0.1", 5353), new PortPublish(9000, "tcp", null, null)], r.Ports);
        Assert.Equal(256L << 20, r.MemoryBytes);
        Assert.Equal(500_000_000, r.NanoCpus);
        Assert.Equal(100, r.PidsLimit);
        Assert.Equal(("on-failure", 3), (r.RestartPolicy, r.RestartMaxRetries));
        Assert.Equal(["CMD-SHELL", "wget -q -O- localhost"], r.Health!.Test);
        Assert.Equal(TimeSpan.FromSeconds(10), r.Health.Interval);
        Assert.Equal(["NET_BIND_SERVICE", "CHOWN"], r.CapAdd);
        Assert.True(r.ReadOnlyRootfs && r.Tty);
    }

    [Theory]
    [InlineData("Image", "", "image: required")]
    [InlineData("Name", "bad name", "name:")]
    [InlineData("Ports", "80:99999", "ports:")]
    [InlineData("Ports", "80/icmp", "ports:")]
    [InlineData("Volumes", "data", "volumes:")]
    [InlineData("Volumes", "data:/x:rx", "volumes:")]
    [InlineData("Env", "NOEQUALS", "env:")]
    [InlineData("MemoryMiB", "-5", "memory:")]
    [InlineData("Cpus", "lots", "cpus:")]
    [InlineData("Command", "echo 'unterminated", "command:")]
    [InlineData("RestartPolicy", "sometimes", "restart policy:")]
    public void ToRequest_BadField_ErrorNamesTheField(string field, string value, string expected)
    {
        var form = new ContainerForm { Image = "busybox" };
        typeof(ContainerForm).GetProperty(field)!.SetValue(form, value);

        var (request, errors) = form.ToRequest();

        Assert.Null(request);
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void FromRequest_RoundTrip_SameRequest()
    {
        var (original, _) = new ContainerForm
        {
            Image = "busybox", Name = "a", Command = "sh -c 'x y'", Env = "A=1", Labels = "k=v", Ports = "127.0.0.1:8080:80/tcp",
            Volumes = "data:/d:ro", MemoryMiB = "64", Cpus = "1.5", RestartPolicy = "always", HealthCommand = "true", HealthRetries = "2",
            CapAdd = "CHOWN", User = "nobody", Tty = true,
        }.ToRequest();

        var (again, errors) = ContainerForm.FromRequest(original!, keepName: true).ToRequest();

        Assert.Empty(errors);
        Assert.Equal(DockerRunLine.Format(original!), DockerRunLine.Format(again!));
    }

    [Fact]
    public void FromRequest_Clone_DropsTheName()
    {
        Assert.Equal("", ContainerForm.FromRequest(new ContainerCreateRequest { Image = "x", Name = "a" }, keepName: false).Name);
    }

    [Fact]
    public void DockerRunLine_Request_QuotedLikeTheShell()
    {
        var (r, _) = new ContainerForm
        {
            Image = "busybox", Name = "web", Command = "sh -c 'echo $HOME; it'\\''s'", Env = "GREETING=hello world", Ports = "8080:80",
            Volumes = "data:/data:ro", MemoryMiB = "128", RestartPolicy = "unless-stopped", ReadOnlyRootfs = true,
        }.ToRequest();

        Assert.Equal(
            "docker run -d --name web -e 'GREETING=hello world' -p 8080:80/tcp -v data:/data:ro --memory 128m --restart unless-stopped --read-only busybox sh -c 'echo $HOME; it'\\''s'",
            DockerRunLine.Format(r!));
        Assert.Equal(["docker", "run", "-d", "--name", "web", "-e", "GREETING=hello world"], ShellWords.Split(DockerRunLine.Format(r!)).Take(7));
    }
}
