using System.Text;
using System.Text.Json;

namespace Dashboard.Runtime.Cli.Commands;

public static class ListCommand
{
    public static int Run(Context context, CommandLine cmd)
    {
        var containers = new List<(Container Container, Oci.Runtime.State State)>();
        foreach (var id in context.Store.ListIds())
        {
            try
            {
                var c = Container.Load(context.Store, id);
                containers.Add((c, c.ToState()));
            }
            catch (RuntimeException)
            {
                // Removed while we listed.
            }
        }

        if (cmd.Flag("quiet"))
        {
            foreach (var (c, _) in containers)
            {
                Console.WriteLine(c.Id);
            }

            return 0;
        }

        var format = cmd.Value("format") ?? "table";
        if (format == "json")
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartArray();
                foreach (var (c, s) in containers)
                {
                    w.WriteStartObject();
                    w.WriteString("ociVersion", s.OciVersion);
                    w.WriteString("id", c.Id);
                    w.WriteNumber("pid", s.Pid ?? 0);
                    w.WriteString("status", s.Status);
                    w.WriteString("bundle", c.Record.Bundle);
                    w.WriteString("rootfs", c.Record.Rootfs);
                    w.WriteString("created", c.Record.Created.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                    w.WriteString("owner", c.Record.Owner);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            Console.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
            return 0;
        }

        if (format != "table")
        {
            throw new RuntimeException(ErrorKind.InvalidArgument, $"invalid format option \"{format}\"");
        }

        Console.WriteLine($"{"ID",-20} {"PID",-8} {"STATUS",-10} {"BUNDLE",-40} {"CREATED",-30} OWNER");
        foreach (var (c, s) in containers)
        {
            Console.WriteLine($"{c.Id,-20} {s.Pid ?? 0,-8} {s.Status,-10} {c.Record.Bundle,-40} {c.Record.Created.UtcDateTime:O} {c.Record.Owner}");
        }

        return 0;
    }
}
