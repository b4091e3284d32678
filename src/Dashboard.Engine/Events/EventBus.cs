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
        var now = time.GetUtcNow();
        var nano = (now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
        var stored = await store.AppendEventAsync(new EngineEvent(type, action, actorId, attributes, nano), CancellationToken.None);
        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(stored);
            }
        }

        return stored;
    }

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
