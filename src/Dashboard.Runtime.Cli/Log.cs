using System.Text;
using System.Text.Json;

namespace Dashboard.Runtime.Cli;

/// <summary>runc-style logging: <c>--log FILE</c> in <c>--log-format text|json</c>; errors also go to stderr.</summary>
public sealed class Log
{
    private readonly string? _path;
    private readonly bool _json;

    public Log(string? path, string format, bool debug)
    {
        _path = string.IsNullOrEmpty(path) ? null : path;
        _json = format == "json";
        Debug = debug;
        if (format is not ("json" or "text"))
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, $"invalid log-format: {format}");
        }
    }

    public bool Debug { get; }

    public void Error(string message) => Write("error", message, toStderr: true);

    public void Warn(string message) => Write("warning", message, toStderr: _path is null);

    public void Info(string message) => Write("info", message, toStderr: false);

    private void Write(string level, string message, bool toStderr)
    {
        var time = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", System.Globalization.CultureInfo.InvariantCulture);
        if (_path is not null)
        {
            var line = _json ? JsonLine(level, message, time) : $"time=\"{time}\" level={level} msg={Quote(message)}\n";
            try
            {
                File.AppendAllText(_path, line);
            }
            catch (IOException)
            {
                toStderr = true;
            }
        }

        if (toStderr)
        {
            Console.Error.WriteLine(level == "error" ? message : $"{level}: {message}");
        }
    }

    private static string JsonLine(string level, string message, string time)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("level", level);
            writer.WriteString("msg", message);
            writer.WriteString("time", time);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static string Quote(string text) =>
        "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
}
