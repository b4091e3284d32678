using System.Globalization;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Alerts;

public sealed record AlertFired(AlertRule Rule, string Engine, string ContainerId, string ContainerName, string Message, DateTimeOffset Time);

/// <summary>
/// Decides which rules fire, from engine events and stats samples; no I/O, so every rule is tested with
/// hand-made inputs. Event rules wait <c>cooldown</c> before firing again for the same container (a crash loop
/// would otherwise flood the bell and the webhook); threshold rules fire once per excursion above the threshold.
/// </summary>
public sealed class AlertEvaluator(TimeSpan? cooldown = null)
{
    /// <summary>Bounds the per-container state (a stream of short-lived containers must not grow it forever).</summary>
    public const int MaxTracked = 10_000;

    private readonly TimeSpan _cooldown = cooldown ?? TimeSpan.FromMinutes(1);
    private readonly Lock _lock = new();
    private readonly Dictionary<(int Rule, string Engine, string Container), DateTimeOffset> _lastFired = [];
    private readonly Dictionary<(int Rule, string Engine, string Container), Queue<DateTimeOffset>> _starts = [];
    private readonly Dictionary<(int Rule, string Engine, string Container), (DateTimeOffset Since, bool Fired)> _over = [];
    private IReadOnlyList<AlertRule> _rules = [];

    public IReadOnlyList<AlertRule> Rules
    {
        get
        {
            lock (_lock)
            {
                return _rules;
            }
        }
    }

    /// <summary>Whether any enabled rule needs stats (otherwise nobody follows stats streams).</summary>
    public bool NeedsStats => Rules.Any(r => r.Enabled && r.Kind is AlertKind.CpuAbove or AlertKind.MemoryAbove);

    public void SetRules(IEnumerable<AlertRule> rules)
    {
        var copy = rules.Select(r => r.Clone()).ToList();
        lock (_lock)
        {
            _rules = copy;
            var ids = copy.Select(r => r.Id).ToHashSet();
            Prune(_lastFired, ids);
            Prune(_starts, ids);
            Prune(_over, ids);
        }
    }

    public IReadOnlyList<AlertFired> OnEvent(string engine, EngineEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Type != EngineEventType.Container)
        {
            return [];
        }

        var name = e.Attributes.GetValueOrDefault("name") ?? ShortId(e.ActorId);
        var fired = new List<AlertFired>();
        lock (_lock)
        {
            foreach (var rule in _rules.Where(r => r.Enabled && Matches(r, engine, name)))
            {
                var key = (rule.Id, engine, e.ActorId);
                switch (rule.Kind)
                {
                    case AlertKind.Died when e.Action == "die":
                        var exit = e.Attributes.GetValueOrDefault("exitCode");
                        FireAfterCooldown(rule, key, fired, engine, e, name, $"container {name} died" + (exit is null ? "" : $" (exit code {exit})"));
                        break;
                    case AlertKind.Unhealthy when e.Action.StartsWith("health_status", StringComparison.Ordinal) && e.Action.Contains("unhealthy", StringComparison.Ordinal):
                        FireAfterCooldown(rule, key, fired, engine, e, name, $"container {name} is unhealthy");
                        break;
                    case AlertKind.RestartLoop when e.Action is "start" or "restart":
                        if (!_starts.TryGetValue(key, out var starts))
                        {
                            if (_starts.Count >= MaxTracked)
                            {
                                _starts.Remove(_starts.Keys.First());
                            }

                            _starts[key] = starts = new Queue<DateTimeOffset>();
                        }

                        starts.Enqueue(e.Time);
                        while (starts.Count > 0 && e.Time - starts.Peek() > TimeSpan.FromMinutes(rule.Minutes))
                        {
                            starts.Dequeue();
                        }

                        if (starts.Count >= rule.Threshold)
                        {
                            fired.Add(new AlertFired(rule, engine, e.ActorId, name, $"container {name} started {starts.Count} times within {rule.Minutes} min (restart loop)", e.Time));
                            starts.Clear();
                        }

                        break;
                    case AlertKind.CpuAbove or AlertKind.MemoryAbove when e.Action is "die" or "destroy":
                        // Re-arm: a new run of the container is a new excursion.
                        _over.Remove(key);
                        break;
                }
            }

            if (e.Action == "destroy")
            {
                foreach (var key in _starts.Keys.Where(k => k.Engine == engine && k.Container == e.ActorId).ToList())
                {
                    _starts.Remove(key);
                }
            }
        }

        return fired;
    }

    public IReadOnlyList<AlertFired> OnStats(string engine, string containerName, ContainerStatsSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var fired = new List<AlertFired>();
        lock (_lock)
        {
            foreach (var rule in _rules.Where(r => r.Enabled && r.Kind is AlertKind.CpuAbove or AlertKind.MemoryAbove && Matches(r, engine, containerName)))
            {
                double? value = rule.Kind == AlertKind.CpuAbove
                    ? sample.CpuPercent
                    : sample is { MemoryUsage: { } used, MemoryLimit: > 0 and { } limit } ? 100.0 * used / limit : null;
                if (value is null)
                {
                    continue;
                }

                var key = (rule.Id, engine, sample.ContainerId);
                if (value <= rule.Threshold)
                {
                    _over.Remove(key);
                    continue;
                }

                if (!_over.TryGetValue(key, out var state))
                {
                    if (_over.Count >= MaxTracked)
                    {
                        _over.Remove(_over.Keys.First());
                    }

                    state = (sample.Read, false);
                }

                if (!state.Fired && sample.Read - state.Since >= TimeSpan.FromMinutes(rule.Minutes))
                {
                    var what = rule.Kind == AlertKind.CpuAbove ? "CPU" : "memory";
                    fired.Add(new AlertFired(rule, engine, sample.ContainerId, containerName,
                        string.Create(CultureInfo.InvariantCulture, $"container {containerName}: {what} at {value:0.#}% (over {rule.Threshold:0.#}% for {rule.Minutes} min)"),
                        sample.Read));
                    state = (state.Since, true);
                }

                _over[key] = state;
            }
        }

        return fired;
    }

    private void FireAfterCooldown(AlertRule rule, (int, string, string) key, List<AlertFired> fired, string engine, EngineEvent e, string name, string message)
    {
        if (_lastFired.TryGetValue(key, out var last) && e.Time - last < _cooldown)
        {
            return;
        }

        if (_lastFired.Count >= MaxTracked)
        {
            _lastFired.Remove(_lastFired.Keys.First());
        }

        _lastFired[key] = e.Time;
        fired.Add(new AlertFired(rule, engine, e.ActorId, name, message, e.Time));
    }

    private static void Prune<T>(Dictionary<(int Rule, string Engine, string Container), T> state, HashSet<int> ruleIds)
    {
        foreach (var key in state.Keys.Where(k => !ruleIds.Contains(k.Rule)).ToList())
        {
            state.Remove(key);
        }
    }

    private static bool Matches(AlertRule rule, string engine, string containerName) =>
        (rule.Engine.Length == 0 || rule.Engine == engine)
        && (rule.ContainerFilter.Length == 0 || containerName.Contains(rule.ContainerFilter, StringComparison.OrdinalIgnoreCase));

    private static string ShortId(string id) => id.Length > 12 ? id[..12] : id;
}
