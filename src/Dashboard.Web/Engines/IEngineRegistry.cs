namespace Dashboard.Web.Engines;

/// <summary>The engines this dashboard manages, by name.</summary>
public interface IEngineRegistry
{
    IReadOnlyList<string> Names { get; }

    /// <summary>The client for <paramref name="name"/>; throws <see cref="EngineException"/> (NotFound) for unknown names.</summary>
    IEngineClient Get(string name);
}

/// <summary>
/// Engines from <c>--engine</c> flags (fixed for the process) plus remote engines an Admin adds at run time
/// (<see cref="RemoteEngineService"/>). Readers get an immutable snapshot, so adding or removing an engine
/// never disturbs a loop over <see cref="Names"/>.
/// </summary>
public sealed class EngineRegistry : IEngineRegistry, IDisposable
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _configured;
    private State _state;

    public EngineRegistry(IEnumerable<KeyValuePair<string, IEngineClient>> clients)
    {
        var map = new Dictionary<string, IEngineClient>(StringComparer.Ordinal);
        var names = new List<string>();
        foreach (var (name, client) in clients)
        {
            if (!map.TryAdd(name, client))
            {
                throw new ArgumentException($"engine {name}: configured twice", nameof(clients));
            }

            names.Add(name);
        }

        _configured = new HashSet<string>(names, StringComparer.Ordinal);
        _state = new State(map, names);
    }

    /// <summary>Raised after an engine was added or removed.</summary>
    public event Action? Changed;

    public IReadOnlyList<string> Names => _state.Names;

    public IEngineClient Get(string name) =>
        name is not null && _state.Clients.TryGetValue(name, out var client)
            ? client
            : throw new EngineException(EngineErrorKind.NotFound, $"engine {name}: not configured");

    /// <summary>True for engines from flags or the config file: they cannot be removed in the UI.</summary>
    public bool IsConfigured(string name) => _configured.Contains(name);

    /// <summary>Adds a run-time engine; false when the name is taken.</summary>
    public bool TryAdd(string name, IEngineClient client)
    {
        lock (_lock)
        {
            if (_state.Clients.ContainsKey(name))
            {
                return false;
            }

            _state = new State(new Dictionary<string, IEngineClient>(_state.Clients, StringComparer.Ordinal) { [name] = client }, [.. _state.Names, name]);
        }

        Changed?.Invoke();
        return true;
    }

    /// <summary>Removes and disposes a run-time engine; configured engines stay.</summary>
    public bool Remove(string name)
    {
        IEngineClient? removed;
        lock (_lock)
        {
            if (_configured.Contains(name) || !_state.Clients.TryGetValue(name, out removed))
            {
                return false;
            }

            var clients = new Dictionary<string, IEngineClient>(_state.Clients, StringComparer.Ordinal);
            clients.Remove(name);
            _state = new State(clients, _state.Names.Where(n => n != name).ToList());
        }

        Changed?.Invoke();
        (removed as IDisposable)?.Dispose();
        return true;
    }

    public void Dispose()
    {
        foreach (var client in _state.Clients.Values)
        {
            (client as IDisposable)?.Dispose();
        }
    }

    private sealed record State(IReadOnlyDictionary<string, IEngineClient> Clients, IReadOnlyList<string> Names);
}
