using Docker.DotNet;
using Docker.DotNet.Models;

namespace Dashboard.Web.Engines;

public sealed partial class DockerEngineClient
{
    public async Task<IExecSession> StartExecAsync(string id, ExecRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var created = await CallAsync($"exec in container {id}", () => _client.Exec.CreateContainerExecAsync(id, new ContainerExecCreateParameters
        {
            AttachStdin = true,
            AttachStdout = true,
            AttachStderr = true,
            TTY = true,
            Cmd = [.. request.Command],
            User = request.User ?? "",
            ConsoleSize = new ConsoleSize { Height = (ulong)request.Rows, Width = (ulong)request.Columns },
        }, cancellationToken));
        var stream = await CallAsync($"start exec {created.ID}", () => _client.Exec.StartContainerExecAsync(created.ID, new ContainerExecStartParameters
        {
            TTY = true,
            Detach = false,
            ConsoleSize = new ConsoleSize { Height = (ulong)request.Rows, Width = (ulong)request.Columns },
        }, cancellationToken));
        return new DockerExecSession(this, created.ID, stream);
    }

    private sealed class DockerExecSession(DockerEngineClient owner, string execId, MultiplexedStream stream) : IExecSession
    {
        public string ExecId => execId;

        public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            var array = new byte[buffer.Length];
            try
            {
                var result = await stream.ReadOutputAsync(array, 0, array.Length, cancellationToken);
                if (result.EOF)
                {
                    return 0;
                }

                array.AsSpan(0, result.Count).CopyTo(buffer.Span);
                return result.Count;
            }
            catch (IOException)
            {
                // The engine closed the hijacked connection: the process ended.
                return 0;
            }
        }

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            var array = data.ToArray();
            try
            {
                await stream.WriteAsync(array, 0, array.Length, cancellationToken);
            }
            catch (IOException e)
            {
                throw new EngineException(EngineErrorKind.Conflict, $"exec {execId}: session ended", e);
            }
        }

        public Task ResizeAsync(int columns, int rows, CancellationToken cancellationToken) =>
            owner.CallAsync($"resize exec {execId}", async () =>
            {
                await owner._client.Exec.ResizeExecTtyAsync(execId, new ContainerResizeParameters { Width = columns, Height = rows }, cancellationToken);
                return true;
            });

        public async Task<long?> GetExitCodeAsync(CancellationToken cancellationToken)
        {
            var inspect = await owner.CallAsync($"inspect exec {execId}", () => owner._client.Exec.InspectContainerExecAsync(execId, cancellationToken));
            return inspect.Running ? null : inspect.ExitCode;
        }

        public ValueTask DisposeAsync()
        {
            stream.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
