using System.Text.Json;

namespace Dashboard.Engine.Api;

/// <summary>Docker's <c>filters</c> query parameter: <c>{"key":["v",…]}</c> or the older <c>{"key":{"v":true}}</c>.</summary>
public sealed class DockerFilters
{
    private readonly Dictionary<string, List<string>> _values;

    private DockerFilters(Dictionary<string, List<string>> values) => _values = values;

    public static DockerFilters Parse(string? json, params string[] allowed)
    {
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(json))
        {
            try
            {
                using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false });
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new EngineException(ErrorKind.InvalidArgument, "invalid filter: not a JSON object");
                }

                foreach (var property in doc.RootElement.EnumerateObject())
                {
                    if (!allowed.Contains(property.Name))
                    {
                        throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter '{property.Name}'");
                    }

                    var list = new List<string>();
                    switch (property.Value.ValueKind)
                    {
                        case JsonValueKind.Array:
                            foreach (var item in property.Value.EnumerateArray())
                            {
                                list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter '{property.Name}'"));
                            }

                            break;
                        case JsonValueKind.Object:
                            foreach (var item in property.Value.EnumerateObject())
                            {
                                if (item.Value.ValueKind == JsonValueKind.True)
                                {
                                    list.Add(item.Name);
                                }
                            }

                            break;
                        default:
                            throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter '{property.Name}'");
                    }

                    values[property.Name] = list;
                }
            }
            catch (JsonException e)
            {
                throw new EngineException(ErrorKind.InvalidArgument, $"invalid filter: {e.Message}", e);
            }
        }

        return new DockerFilters(values);
    }

    public IReadOnlyList<string> Get(string key) => _values.TryGetValue(key, out var v) ? v : [];

    public bool Has(string key) => _values.TryGetValue(key, out var v) && v.Count > 0;

    /// <summary>Docker's label filter: every <c>key</c> or <c>key=value</c> given must match.</summary>
    public bool MatchLabels(IReadOnlyDictionary<string, string>? labels, string key = "label")
    {
        foreach (var expr in Get(key))
        {
            var eq = expr.IndexOf('=', StringComparison.Ordinal);
            var k = eq < 0 ? expr : expr[..eq];
            if (labels is null || !labels.TryGetValue(k, out var actual) || (eq >= 0 && actual != expr[(eq + 1)..]))
            {
                return false;
            }
        }

        return true;
    }
}
