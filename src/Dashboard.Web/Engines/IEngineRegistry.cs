namespace Dashboard.Web.Engines;

/// <summary>The engines this dashboard manages, by name.</summary>
public interface IEngineRegistry
{
    IReadOnlyList<string> Names { get; }

    /// <summary>The client for <paramref name="name"/>; throws <see cref="EngineException"/> (NotFound) for unknown names.</summary>
    IEngineClient Get(string name);
}

public sealed class EngineRegistry : IEngineRegistry, IDisposable
{
    private readonly Dictionary<string, IEngineClient> _clients;
    private readonly List<string> _names;

    public EngineRegistry(IEnumerable<KeyValuePair<string, IEngineClient>> clients)
    {
        _clients = new Dictionary<string, IEngineClient>(StringComparer.Ordinal);
        _names = [];
        foreach (var (name, client) in clients)
        {
            if (!_clients.TryAdd(name, client))
            {
                throw new ArgumentException($"engine {name}: configured twice", nameof(clients));
            }

            _names.Add(name);
        }
    }

    public IReadOnlyList<string> Names => _names;

    public IEngineClient Get(string name) =>
        name is not null && _clients.TryGetValue(name, out var client)
            ? client
            : throw new EngineException(EngineErrorKind.NotFound, $"engine {name}: not configured");

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            (client as IDisposable)?.Dispose();
        }
    }
}
