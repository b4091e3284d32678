using Dashboard.Web.Engines;

namespace Dashboard.Web.Logs;

/// <summary>Receives a shared log follow's lines; called on the follow's reader thread, so it must not block.</summary>
public interface ILogFollower
{
    void OnLines(IReadOnlyList<LogLine> lines);

    /// <summary>The engine ended the stream (container stopped: <paramref name="error"/> null) or it failed.</summary>
    void OnEnded(Exception? error);
}

/// <summary>
/// One engine log follow per (engine, container, tail) however many views follow it: ten browsers on one
/// container cost the engine one reader and the web one UTF-8 decode, not ten. The follow keeps the newest
/// <c>tail</c> lines, so a view that joins later starts from the same tail a follow of its own would have sent,
/// then gets every later line. Followers that fall behind drop lines in their own bounded queues, never here.
/// </summary>
public sealed class LogFollowService
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Key, SharedFollow> _follows = [];

    /// <summary>Follows currently open against an engine (for tests and metrics).</summary>
    public int OpenFollows
    {
        get
        {
            lock (_lock)
            {
                return _follows.Count;
            }
        }
    }

    /// <summary>Starts following; dispose the result to stop. The last follower leaving closes the engine stream.</summary>
    public IDisposable Follow(IEngineClient client, string containerId, int tail, ILogFollower follower)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(follower);
        var key = new Key(client, containerId, Math.Max(0, tail));
        while (true)
        {
            SharedFollow follow;
            var created = false;
            lock (_lock)
            {
                if (!_follows.TryGetValue(key, out follow!))
                {
                    follow = new SharedFollow(this, key);
                    _follows[key] = follow;
                    created = true;
                }
            }

            if (follow.TryAdd(follower) is { } subscription)
            {
                if (created)
                {
                    follow.Start();
                }

                return subscription;
            }

            // It closed (last follower left, or the stream ended) between the lookup and the add.
            Remove(follow);
        }
    }

    private void Remove(SharedFollow follow)
    {
        lock (_lock)
        {
            if (_follows.TryGetValue(follow.Key, out var current) && ReferenceEquals(current, follow))
            {
                _follows.Remove(follow.Key);
            }
        }
    }

    private readonly record struct Key(IEngineClient Client, string ContainerId, int Tail);

    private sealed class SharedFollow(LogFollowService owner, Key key)
    {
        private readonly Lock _lock = new();
        private readonly List<ILogFollower> _followers = [];
        private readonly Queue<LogLine> _tail = new();
        private readonly CancellationTokenSource _cts = new();
        private bool _closed;

        public Key Key => key;

        public void Start() => _ = Task.Run(PumpAsync);

        public IDisposable? TryAdd(ILogFollower follower)
        {
            lock (_lock)
            {
                if (_closed)
                {
                    return null;
                }

                // Under the lock, so no batch falls between the tail this follower gets and the first live one.
                if (_tail.Count > 0)
                {
                    follower.OnLines([.. _tail]);
                }

                _followers.Add(follower);
                return new Subscription(this, follower);
            }
        }

        private void Leave(ILogFollower follower)
        {
            lock (_lock)
            {
                if (!_followers.Remove(follower) || _followers.Count > 0 || _closed)
                {
                    return;
                }

                _closed = true;
            }

            owner.Remove(this);
            _cts.Cancel();
        }

        private async Task PumpAsync()
        {
            Exception? error = null;
            try
            {
                await foreach (var batch in key.Client.GetLogsAsync(key.ContainerId, key.Tail, follow: true, _cts.Token))
                {
                    lock (_lock)
                    {
                        if (key.Tail > 0)
                        {
                            foreach (var line in batch)
                            {
                                if (_tail.Count == key.Tail)
                                {
                                    _tail.Dequeue();
                                }

                                _tail.Enqueue(line);
                            }
                        }

                        foreach (var follower in _followers)
                        {
                            follower.OnLines(batch);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (_cts.IsCancellationRequested)
            {
                _cts.Dispose();
                return;
            }
            catch (Exception e)
            {
                error = e;
            }

            ILogFollower[] ended;
            lock (_lock)
            {
                _closed = true;
                ended = [.. _followers];
                _followers.Clear();
            }

            owner.Remove(this);
            foreach (var follower in ended)
            {
                follower.OnEnded(error);
            }
        }

        private sealed class Subscription(SharedFollow follow, ILogFollower follower) : IDisposable
        {
            private int _disposed;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0)
                {
                    follow.Leave(follower);
                }
            }
        }
    }
}
