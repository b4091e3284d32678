using System.Text;
using Dashboard.Engine.Logs;

namespace Dashboard.Engine.Tests.Fakes;

/// <summary>Writes CRI log records the way the shim does (test side of the log contract), with size-based rotation.</summary>
public sealed class CriLogWriter(string path, long maxSize = long.MaxValue, int maxFiles = 3)
{
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private readonly Lock _lock = new();

    public void Write(string stream, string text, bool partial = false, DateTimeOffset? time = null)
    {
        var t = time ?? DateTimeOffset.UtcNow;
        var nano = (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
        var record = $"{CriLog.FormatTimestamp(nano)} {stream} {(partial ? "P" : "F")} {text}\n";
        lock (_lock)
        {
            if (File.Exists(path) && new FileInfo(path).Length + record.Length > maxSize)
            {
                Rotate();
            }

            File.AppendAllText(path, record, s_utf8);
        }
    }

    private void Rotate()
    {
        var oldest = $"{path}.{maxFiles - 1}";
        if (File.Exists(oldest))
        {
            File.Delete(oldest);
        }

        for (var n = maxFiles - 2; n >= 1; n--)
        {
            if (File.Exists($"{path}.{n}"))
            {
                File.Move($"{path}.{n}", $"{path}.{n + 1}");
            }
        }

        File.Move(path, path + ".1");
    }
}
