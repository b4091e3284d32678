using System.Net.Sockets;
using System.Text;

namespace Dashboard.Engine.Tests.Fakes;

/// <summary>An HttpClient over the engine's unix socket, for requests a Docker client would never send.</summary>
public static class RawHttp
{
    public static HttpClient Create(string socket) =>
        new(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                return new NetworkStream(s, ownsSocket: true);
            },
        })
        { BaseAddress = new Uri("http://engine") };

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
