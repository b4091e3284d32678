using System.Threading.Channels;
using Dashboard.Engine.Store;

namespace Dashboard.Engine.Events;

/// <summary>
/// Persists every event, then hands it to live subscribers. Each subscriber has a bounded buffer;
/// a subscriber that falls 1,024 events behind loses the oldest ones (the publisher never waits).
/// </summary>
public sealed class EventBus(IContainerStore store, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly List<Channel<EngineEvent>> _subscribers = [];

    public int SubscriberCount
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count;
            }
        }
    }

    public async Task<EngineEvent> PublishAsync(string type, string action, string actorId, IReadOnlyDictionary<string, string> attributes)
    {
        var stored = await store.AppendEventAsync(Create(type, action, actorId, attributes), CancellationToken.None);
        Deliver(stored);
        return stored;
    }

    /// <summary>An event stamped now, for a store write that persists it in the same transaction as the state it reports; then <see cref="Deliver"/>.</summary>
    public EngineEvent Create(string type, string action, string actorId, IReadOnlyDictionary<string, string> attributes)
    {
        var now = time.GetUtcNow();
        return new EngineEvent(type, action, actorId, attributes, (now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100);
    }

    /// <summary>Hands events the store has persisted to live subscribers.</summary>
    public void Deliver(IEnumerable<EngineEvent> stored)
    {
        lock (_lock)
        {
            foreach (var e in stored)
            {
                foreach (var subscriber in _subscribers)
                {
                    subscriber.Writer.TryWrite(e);
                }
            }
        }
    }

    public void Deliver(EngineEvent stored) => Deliver([stored]);

    /// <summary>A live feed of events published from now on; dispose it to unsubscribe.</summary>
    public Subscription Subscribe()
    {
        var channel = Channel.CreateBounded<EngineEvent>(new BoundedChannelOptions(1024)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        lock (_lock)
        {
            _subscribers.Add(channel);
        }

        return new Subscription(this, channel);
    }

    public sealed class Subscription : IDisposable
    {
        private readonly EventBus _bus;
        private readonly Channel<EngineEvent> _channel;

        internal Subscription(EventBus bus, Channel<EngineEvent> channel)
        {
            _bus = bus;
            _channel = channel;
        }

        public ChannelReader<EngineEvent> Reader => _channel.Reader;

        public void Dispose()
        {
            lock (_bus._lock)
            {
                _bus._subscribers.Remove(_channel);
            }

            _channel.Writer.TryComplete();
        }
    }
}
