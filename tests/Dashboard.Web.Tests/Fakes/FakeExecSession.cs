using System.Collections.Concurrent;
using System.Threading.Channels;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Tests.Fakes;

/// <summary>An exec session whose output the test feeds; records input, resizes and disposal.</summary>
public sealed class FakeExecSession(string execId) : IExecSession
{
    private readonly Channel<byte[]> _output = Channel.CreateUnbounded<byte[]>();
    private readonly MemoryStream _input = new();
    private byte[]? _pending;

    public string ExecId => execId;

    public ConcurrentQueue<(int Columns, int Rows)> Resizes { get; } = new();

    public long? ExitCode { get; private set; }

    public bool Disposed { get; private set; }

    public string InputText
    {
        get
        {
            lock (_input)
            {
                return System.Text.Encoding.UTF8.GetString(_input.ToArray());
            }
        }
    }

    public void Output(byte[] bytes) => _output.Writer.TryWrite(bytes);

    public void Exit(long code)
    {
        ExitCode = code;
        _output.Writer.TryComplete();
    }

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Disposed, this);
        if (_pending is null)
        {
            if (!await _output.Reader.WaitToReadAsync(cancellationToken) || !_output.Reader.TryRead(out _pending))
            {
                return 0;
            }
        }

        var n = Math.Min(buffer.Length, _pending.Length);
        _pending.AsSpan(0, n).CopyTo(buffer.Span);
        _pending = n == _pending.Length ? null : _pending[n..];
        return n;
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        lock (_input)
        {
            _input.Write(data.Span);
        }

        return ValueTask.CompletedTask;
    }

    public Task ResizeAsync(int columns, int rows, CancellationToken cancellationToken)
    {
        Resizes.Enqueue((columns, rows));
        return Task.CompletedTask;
    }

    public Task<long?> GetExitCodeAsync(CancellationToken cancellationToken) => Task.FromResult(ExitCode);

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        _output.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }
}
