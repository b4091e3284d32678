using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Dashboard.Web.Hosting;

/// <summary>
/// Collects the .NET meters of this app (System.Diagnostics.Metrics: ASP.NET Core hosting, Kestrel, the .NET
/// runtime, EF Core) and renders them in the Prometheus text exposition format 0.0.4. A <see cref="MeterListener"/>
/// instead of the OpenTelemetry SDK: the instruments are the same ones OpenTelemetry reads, and the service needs
/// no package whose Prometheus exporter is still a beta. Histograms are exposed as summaries (count and sum).
/// </summary>
public sealed class PrometheusMetrics : IDisposable
{
    private static readonly string[] s_meterNames =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Http.Connections",
        "Microsoft.EntityFrameworkCore",
        "System.Runtime",
    ];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentData> _data = new();
    private readonly object? _scope;
    private readonly string _ownMeterPrefix;

    /// <param name="scope">The app's <c>IMeterFactory</c>: meters another app in the same process created are left out.</param>
    /// <param name="ownMeterPrefix">Meters whose names start with this (e.g. <c>Dashboard.Web</c>) are collected too.</param>
    public PrometheusMetrics(object? scope, string ownMeterPrefix)
    {
        _scope = scope;
        _ownMeterPrefix = ownMeterPrefix;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (Wanted(instrument.Meter))
            {
                var data = _data.GetOrAdd(instrument, static i => new InstrumentData(i));
                listener.EnableMeasurementEvents(instrument, data);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) => _data.TryRemove(instrument, out var _);
        _listener.SetMeasurementEventCallback<long>(static (i, v, tags, state) => Record(state, i, v, tags));
        _listener.SetMeasurementEventCallback<int>(static (i, v, tags, state) => Record(state, i, v, tags));
        _listener.SetMeasurementEventCallback<double>(static (i, v, tags, state) => Record(state, i, v, tags));
        _listener.SetMeasurementEventCallback<float>(static (i, v, tags, state) => Record(state, i, v, tags));
        _listener.SetMeasurementEventCallback<short>(static (i, v, tags, state) => Record(state, i, v, tags));
        _listener.SetMeasurementEventCallback<byte>(static (i, v, tags, state) => Record(state, i, v, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (i, v, tags, state) => Record(state, i, (double)v, tags));
        _listener.Start();
    }

    private bool Wanted(Meter meter) =>
        (meter.Scope is null || _scope is null || ReferenceEquals(meter.Scope, _scope)) &&
        (s_meterNames.Contains(meter.Name, StringComparer.Ordinal) || meter.Name.StartsWith(_ownMeterPrefix, StringComparison.Ordinal));

    /// <summary>The state is the instrument's <see cref="InstrumentData"/>, given to <c>EnableMeasurementEvents</c>.</summary>
    private static void Record(object? state, Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        _ = instrument;
        if (state is not InstrumentData data)
        {
            return;
        }

        var key = Labels(tags);
        lock (data)
        {
            var point = data.Points.TryGetValue(key, out var p) ? p : data.Points[key] = new Point();
            switch (data.Kind)
            {
                case Kind.Sum:
                    point.Value += value;
                    break;
                case Kind.Summary:
                    point.Value += value;
                    point.Count++;
                    break;
                default:
                    point.Value = value;
                    break;
            }
        }
    }

    /// <summary>The exposition text: every series collected so far, observable instruments read now, plus <paramref name="extra"/>.</summary>
    public string Render(IEnumerable<MetricFamily>? extra = null)
    {
        foreach (var data in _data.Values)
        {
            if (data.Kind is Kind.ObservedTotal or Kind.ObservedGauge)
            {
                lock (data)
                {
                    data.Points.Clear();
                }
            }
        }

        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (var group in _data.Values.GroupBy(d => d.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var first = group.First();
            text.Append("# HELP ").Append(first.Name).Append(' ').Append(Escape(first.Help, help: true)).Append('\n');
            text.Append("# TYPE ").Append(first.Name).Append(' ').Append(first.Kind switch
            {
                Kind.Sum or Kind.ObservedTotal when first.Monotonic => "counter",
                Kind.Summary => "summary",
                _ => "gauge",
            }).Append('\n');
            foreach (var data in group)
            {
                lock (data)
                {
                    foreach (var (labels, point) in data.Points.OrderBy(p => p.Key, StringComparer.Ordinal))
                    {
                        if (data.Kind == Kind.Summary)
                        {
                            Sample(text, data.Name + "_sum", labels, point.Value);
                            Sample(text, data.Name + "_count", labels, point.Count);
                        }
                        else
                        {
                            Sample(text, data.Name, labels, point.Value);
                        }
                    }
                }
            }
        }

        foreach (var family in extra ?? [])
        {
            text.Append("# HELP ").Append(family.Name).Append(' ').Append(Escape(family.Help, help: true)).Append('\n');
            text.Append("# TYPE ").Append(family.Name).Append(' ').Append(family.Type).Append('\n');
            foreach (var (labels, value) in family.Samples)
            {
                Sample(text, family.Name, Labels(labels), value);
            }
        }

        return text.ToString();
    }

    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private static void Sample(StringBuilder text, string name, string labels, double value)
    {
        text.Append(name);
        if (labels.Length > 0)
        {
            text.Append('{').Append(labels).Append('}');
        }

        text.Append(' ').Append(FormatValue(value)).Append('\n');
    }

    public static string FormatValue(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" :
        double.IsNegativeInfinity(value) ? "-Inf" :
        double.IsNaN(value) ? "NaN" :
        value.ToString("R", CultureInfo.InvariantCulture);

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return "";
        }

        var pairs = new List<string>(tags.Length);
        foreach (var (k, v) in tags)
        {
            pairs.Add($"{SanitizeName(k)}=\"{Escape(Convert.ToString(v, CultureInfo.InvariantCulture) ?? "", help: false)}\"");
        }

        pairs.Sort(StringComparer.Ordinal);
        return string.Join(',', pairs);
    }

    private static string Labels(IReadOnlyList<KeyValuePair<string, string>> labels)
    {
        var tags = labels.Select(l => KeyValuePair.Create(l.Key, (object?)l.Value)).ToArray();
        return Labels(tags);
    }

    /// <summary>Prometheus names: <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>; dots and dashes of OpenTelemetry names become underscores.</summary>
    public static string SanitizeName(string name)
    {
        var b = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            b.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or ':' ? c : '_');
        }

        if (b.Length == 0 || char.IsAsciiDigit(b[0]))
        {
            b.Insert(0, '_');
        }

        return b.ToString();
    }

    private static string Escape(string text, bool help)
    {
        var b = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            switch (c)
            {
                case '\\': b.Append(@"\\"); break;
                case '\n': b.Append(@"\n"); break;
                case '"' when !help: b.Append("\\\""); break;
                default: b.Append(c); break;
            }
        }

        return b.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private enum Kind
    {
        Sum,
        Gauge,
        Summary,
        ObservedTotal,
        ObservedGauge,
    }

    private sealed class Point
    {
        public double Value { get; set; }
        public long Count { get; set; }
    }

    private sealed class InstrumentData
    {
        public InstrumentData(Instrument instrument)
        {
            var type = instrument.GetType();
            var generic = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
            (Kind, Monotonic) = generic switch
            {
                _ when generic == typeof(Counter<>) => (Kind.Sum, true),
                _ when generic == typeof(UpDownCounter<>) => (Kind.Sum, false),
                _ when generic == typeof(Histogram<>) => (Kind.Summary, false),
                _ when generic == typeof(ObservableCounter<>) => (Kind.ObservedTotal, true),
                _ when generic == typeof(ObservableUpDownCounter<>) => (Kind.ObservedTotal, false),
                _ when generic == typeof(ObservableGauge<>) => (Kind.ObservedGauge, false),
                _ => (Kind.Gauge, false),
            };
            var name = SanitizeName(instrument.Name);
            name += instrument.Unit switch
            {
                "s" => "_seconds",
                "ms" => "_milliseconds",
                "By" => "_bytes",
                _ => "",
            };
            if (Monotonic)
            {
                name += "_total";
            }

            Name = name;
            Help = instrument.Description ?? instrument.Name;
        }

        public string Name { get; }
        public string Help { get; }
        public Kind Kind { get; }
        public bool Monotonic { get; }
        public Dictionary<string, Point> Points { get; } = new(StringComparer.Ordinal);
    }
}

/// <summary>A metric computed at scrape time (e.g. containers by state from the store).</summary>
public sealed record MetricFamily(string Name, string Type, string Help, IReadOnlyList<(IReadOnlyList<KeyValuePair<string, string>> Labels, double Value)> Samples);
