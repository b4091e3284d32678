namespace Dashboard.Engine.Images;

/// <summary>
/// Many readers or one writer, awaitable. Imports and rootfs creation are readers (they add blobs
/// and use layers before a record or container points at them); garbage collection is the writer,
/// so it never deletes content that is about to be referenced.
/// </summary>
public sealed class AsyncReaderWriterLock
{
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly SemaphoreSlim _readersGate = new(1, 1);
    private int _readers;

    public async Task<IDisposable> ReadAsync(CancellationToken cancellationToken)
    {
        await _readersGate.WaitAsync(cancellationToken);
        try
        {
            if (++_readers == 1)
            {
                try
                {
                    await _writer.WaitAsync(cancellationToken);
                }
                catch
                {
                    _readers--;
                    throw;
                }
            }
        }
        finally
        {
            _readersGate.Release();
        }

        return new Releaser(ReleaseRead);
    }

    public async Task<IDisposable> WriteAsync(CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken);
        return new Releaser(() => _writer.Release());
    }

    private void ReleaseRead()
    {
        _readersGate.Wait();
        try
        {
            if (--_readers == 0)
            {
                _writer.Release();
            }
        }
        finally
        {
            _readersGate.Release();
        }
    }

    private sealed class Releaser(Action release) : IDisposable
    {
        private Action? _release = release;

        public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
    }
}
