using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Dashboard.Testing.Images;

/// <summary>Builds tar layers in memory for tests (BCL only, so every test project can use it).</summary>
public sealed class TestTar
{
    private readonly MemoryStream _stream = new();
    private readonly TarWriter _writer;

    public TestTar()
    {
        _writer = new TarWriter(_stream, TarEntryFormat.Pax, leaveOpen: true);
    }

    public static DateTimeOffset DefaultTime { get; } = new(2020, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public TestTar File(string name, string content, int mode = 0x1A4, int uid = 0, int gid = 0, IDictionary<string, string>? pax = null) =>
        File(name, Encoding.UTF8.GetBytes(content), mode, uid, gid, pax);

    public TestTar File(string name, byte[] content, int mode = 0x1A4, int uid = 0, int gid = 0, IDictionary<string, string>? pax = null)
    {
        var entry = pax is null ? new PaxTarEntry(TarEntryType.RegularFile, name) : new PaxTarEntry(TarEntryType.RegularFile, name, pax);
        entry.DataStream = new MemoryStream(content);
        return Add(entry, mode, uid, gid);
    }

    public TestTar Dir(string name, int mode = 0x1ED, int uid = 0, int gid = 0, IDictionary<string, string>? pax = null) =>
        Add(pax is null ? new PaxTarEntry(TarEntryType.Directory, name) : new PaxTarEntry(TarEntryType.Directory, name, pax), mode, uid, gid);

    public TestTar Symlink(string name, string target, int uid = 0, int gid = 0) =>
        Add(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target }, 0x1FF, uid, gid);

    public TestTar Hardlink(string name, string target, int mode = 0x1A4, int uid = 0, int gid = 0) =>
        Add(new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target }, mode, uid, gid);

    public TestTar Fifo(string name, int mode = 0x1A4) => Add(new PaxTarEntry(TarEntryType.Fifo, name), mode, 0, 0);

    public TestTar Device(string name, bool block, int major, int minor, int mode = 0x1B0) =>
        Add(new PaxTarEntry(block ? TarEntryType.BlockDevice : TarEntryType.CharacterDevice, name) { DeviceMajor = major, DeviceMinor = minor }, mode, 0, 0);

    public TestTar Add(TarEntry entry, int mode, int uid, int gid)
    {
        entry.Mode = (UnixFileMode)mode;
        entry.Uid = uid;
        entry.Gid = gid;
        entry.ModificationTime = DefaultTime;
        _writer.WriteEntry(entry);
        return this;
    }

    /// <summary>Appends raw bytes (a hand-made header) before the end-of-archive blocks.</summary>
    public TestTar Raw(byte[] bytes)
    {
        _stream.Write(bytes);
        return this;
    }

    public byte[] ToArray()
    {
        _writer.Dispose();
        return _stream.ToArray();
    }

    public static byte[] Gzip(byte[] tar, CompressionLevel level = CompressionLevel.Fastest)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, level, leaveOpen: true))
        {
            gzip.Write(tar);
        }

        return output.ToArray();
    }

    /// <summary>A ustar header block with the given type and size field, checksum filled in.</summary>
    public static byte[] Header(string name, char type, string octalSize, string linkName = "")
    {
        var block = new byte[512];
        Encoding.ASCII.GetBytes(name).CopyTo(block, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(block, 100);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(block, 108);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(block, 116);
        Encoding.ASCII.GetBytes(octalSize.PadLeft(11, '0') + "\0").CopyTo(block, 124);
        Encoding.ASCII.GetBytes("00000000000\0").CopyTo(block, 136);
        block[156] = (byte)type;
        Encoding.ASCII.GetBytes(linkName).CopyTo(block, 157);
        Encoding.ASCII.GetBytes("ustar\0").CopyTo(block, 257);
        Encoding.ASCII.GetBytes("00").CopyTo(block, 263);
        for (var i = 148; i < 156; i++)
        {
            block[i] = (byte)' ';
        }

        var sum = block.Sum(b => (int)b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(block, 148);
        return block;
    }
}
