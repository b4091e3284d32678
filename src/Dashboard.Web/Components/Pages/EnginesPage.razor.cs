using System.Text;
using Dashboard.Web.Engines;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Forms;
using MudBlazor;

namespace Dashboard.Web.Components.Pages;

/// <summary>Engines (Admin only): configured ones read-only, remote ones added with their TLS files, tested and removed.</summary>
public partial class EnginesPage : IDisposable
{
    private readonly Dictionary<string, EngineHealth?> _health = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposed = new();
    private IReadOnlyList<EngineRow> _engines = [];
    private string? _error;
    private bool _allowed;
    private bool _busy;
    private string _name = "";
    private string _url = "";
    private string? _ca;
    private string? _cert;
    private string? _key;

    private enum Part
    {
        Ca,
        Cert,
        Key,
    }

    [Inject]
    private RemoteEngineService Service { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        await RunAsync(null, () => Task.CompletedTask);
        if (_allowed)
        {
            foreach (var engine in _engines)
            {
                _ = CheckAsync(engine.Name);
            }
        }
    }

    private async Task CheckAsync(string name)
    {
        _health[name] = null;
        try
        {
            var state = await AuthenticationState;
            var result = await Service.TestAsync(state.User, name, _disposed.Token);
            _health[name] = result;
        }
        catch (Exception e) when (e is DashboardForbiddenException or EngineException)
        {
            _health[name] = new EngineHealth(false, null, e.Message);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        await InvokeAsync(StateHasChanged);
    }

    private async Task TestAsync(string name)
    {
        await CheckAsync(name);
        if (_health.GetValueOrDefault(name) is { } h)
        {
            Snackbar.Add(h.Ok ? $"engine {name}: ok, version {h.Version}" : $"engine {name}: {h.Error}", h.Ok ? Severity.Success : Severity.Error);
        }
    }

    private async Task ReadAsync(InputFileChangeEventArgs e, Part part)
    {
        try
        {
            await using var stream = e.File.OpenReadStream(EngineTlsMaterial.MaxPemLength, _disposed.Token);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var text = await reader.ReadToEndAsync(_disposed.Token);
            switch (part)
            {
                case Part.Ca: _ca = text; break;
                case Part.Cert: _cert = text; break;
                default: _key = text; break;
            }
        }
        catch (IOException ex)
        {
            Snackbar.Add($"{e.File.Name}: {ex.Message}", Severity.Error);
        }
    }

    private Task AddAsync() => RunAsync($"engine {_name.Trim()} added", async () =>
    {
        var state = await AuthenticationState;
        var name = _name.Trim();
        await Service.AddAsync(state.User, name, _url, _ca ?? "", _cert ?? "", _key ?? "", CancellationToken.None);
        _name = "";
        _url = "";
        _ca = null;
        _cert = null;
        _key = null;
        _ = CheckAsync(name);
    });

    private Task RemoveAsync(string name) => RunAsync($"engine {name} removed", async () =>
    {
        var state = await AuthenticationState;
        await Service.RemoveAsync(state.User, name, CancellationToken.None);
        _health.Remove(name);
    });

    private async Task RunAsync(string? done, Func<Task> action)
    {
        _busy = true;
        try
        {
            await action();
            var state = await AuthenticationState;
            _engines = await Service.ListAsync(state.User, CancellationToken.None);
            _allowed = true;
            _error = null;
            if (done is not null)
            {
                Snackbar.Add(done, Severity.Success);
            }
        }
        catch (DashboardForbiddenException e)
        {
            _allowed = false;
            _error = e.Message;
        }
        catch (RemoteEngineException e)
        {
            Snackbar.Add(e.Message, Severity.Error);
        }
        finally
        {
            _busy = false;
        }
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
        GC.SuppressFinalize(this);
    }
}
