using System.Text;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.JSInterop;

namespace Dashboard.Web.Components.Controls;

/// <summary>
/// An xterm.js terminal bridged over the circuit to an engine exec session with a TTY. Every start, keystroke batch and
/// resize goes through <see cref="ExecActions"/>/<see cref="TerminalSession"/>, which authorize and audit.
/// </summary>
public partial class TerminalPanel : IAsyncDisposable
{
    /// <summary>Bytes read from the exec stream per browser write; output is forwarded as it arrives, never buffered unbounded.</summary>
    public const int ReadBufferSize = 16 * 1024;

    private readonly CancellationTokenSource _cts = new();
    private DotNetObjectReference<TerminalPanel>? _self;
    private ElementReference _host;
    private TerminalSession? _session;
    private int? _terminalId;
    private string _shell = "sh";
    private string _status = "not connected";
    private string? _error;
    private bool _starting;
    private Task? _reader;

    [Parameter]
    public string Engine { get; set; } = "";

    [Parameter]
    public string ContainerId { get; set; } = "";

    [Inject]
    private ExecActions Exec { get; set; } = default!;

    [Inject]
    private IJSRuntime JS { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        await EndSessionAsync("page closed");
        if (_terminalId is { } id)
        {
            try
            {
                await JS.InvokeVoidAsync("dashboardTerminal.close", id);
            }
            catch (Exception e) when (e is JSDisconnectedException or TaskCanceledException or JSException)
            {
                // The browser is gone; nothing to close there.
            }
        }

        _self?.Dispose();
        _cts.Dispose();
        GC.SuppressFinalize(this);
    }

    [JSInvokable]
    public async Task OnInput(string data)
    {
        if (_session is not { } session || string.IsNullOrEmpty(data))
        {
            return;
        }

        try
        {
            await session.WriteAsync(Encoding.UTF8.GetBytes(data), _cts.Token);
        }
        catch (Exception e) when (e is DashboardForbiddenException or EngineException)
        {
            await FailAsync(e.Message);
        }
    }

    [JSInvokable]
    public async Task OnResize(int columns, int rows)
    {
        if (_session is not { } session)
        {
            return;
        }

        try
        {
            await session.ResizeAsync(columns, rows, _cts.Token);
        }
        catch (Exception e) when (e is DashboardForbiddenException or EngineException)
        {
            await FailAsync(e.Message);
        }
    }

    private async Task StartAsync()
    {
        if (_session is not null || _starting)
        {
            return;
        }

        _starting = true;
        _error = null;
        _status = "connecting…";
        try
        {
            _self ??= DotNetObjectReference.Create(this);
            var size = await OpenTerminalAsync();
            var state = await AuthenticationState;
            _session = await Exec.StartAsync(state.User, Engine, ContainerId, _shell, size.Columns, size.Rows, _cts.Token);
            _status = $"connected ({_shell})";
            _reader = Task.Run(() => PumpOutputAsync(_session, _cts.Token));
            await JS.InvokeVoidAsync("dashboardTerminal.focus", _terminalId);
        }
        catch (Exception e) when (e is DashboardForbiddenException or EngineException)
        {
            _error = e.Message;
            _status = "not connected";
        }
        finally
        {
            _starting = false;
        }
    }

    private async Task<TerminalSize> OpenTerminalAsync()
    {
        if (_terminalId is null)
        {
            var opened = await JS.InvokeAsync<TerminalSize>("dashboardTerminal.open", _host, _self);
            _terminalId = opened.Id;
            return opened;
        }

        return new TerminalSize { Id = _terminalId.Value, Columns = 80, Rows = 24 };
    }

    private async Task PumpOutputAsync(TerminalSession session, CancellationToken cancellationToken)
    {
        var buffer = new byte[ReadBufferSize];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(ReadBufferSize)];

        // One decoder for the whole stream: a UTF-8 sequence may be split across reads.
        var decoder = Encoding.UTF8.GetDecoder();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var n = await session.ReadAsync(buffer, cancellationToken);
                if (n == 0)
                {
                    break;
                }

                var count = decoder.GetChars(buffer, 0, n, chars, 0, flush: false);
                if (count > 0)
                {
                    var text = new string(chars, 0, count);
                    await InvokeAsync(() => JS.InvokeVoidAsync("dashboardTerminal.write", _terminalId, text).AsTask());
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // Disconnected or the page closed: the session is already being ended there.
            return;
        }
        catch (Exception e) when (e is EngineException or JSDisconnectedException or JSException)
        {
            await InvokeAsync(() => FailAsync(e.Message));
            return;
        }

        long? exit = null;
        try
        {
            exit = await session.GetExitCodeAsync(cancellationToken);
        }
        catch (EngineException)
        {
            // The engine forgot the exec; the session still ended.
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var reason = exit is { } code ? $"exit code {code}" : "ended";
        session.SetEndReason(reason);
        await InvokeAsync(async () =>
        {
            if (ReferenceEquals(_session, session))
            {
                await WriteNoticeAsync($"[session ended: {reason}]");
                await EndSessionAsync(reason);
                _status = $"session ended ({reason})";
                StateHasChanged();
            }
        });
    }

    private async Task DisconnectAsync()
    {
        await EndSessionAsync("disconnected by the user");
        await WriteNoticeAsync("[disconnected]");
        _status = "not connected";
    }

    private async Task CopyAsync()
    {
        if (_terminalId is { } id)
        {
            var copied = await JS.InvokeAsync<int>("dashboardTerminal.copySelection", id);
            _status = copied > 0 ? $"copied {copied} characters" : "nothing selected";
        }
    }

    private async Task FailAsync(string message)
    {
        _error = message;
        await EndSessionAsync(message);
        _status = "not connected";
        StateHasChanged();
    }

    private async Task EndSessionAsync(string reason)
    {
        var session = _session;
        _session = null;
        if (session is not null)
        {
            session.SetEndReason(reason);
            await session.DisposeAsync();
        }
    }

    private async Task WriteNoticeAsync(string text)
    {
        if (_terminalId is { } id)
        {
            await JS.InvokeVoidAsync("dashboardTerminal.write", id, $"\r\n{text}\r\n");
        }
    }

    /// <summary>What <c>dashboardTerminal.open</c> returns.</summary>
    public sealed class TerminalSize
    {
        public int Id { get; set; }

        public int Columns { get; set; }

        public int Rows { get; set; }
    }
}
