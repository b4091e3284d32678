using System.Globalization;
using Dashboard.Web.Identity;
using Dashboard.Web.Security;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Dashboard.Web.Components.Pages;

public partial class Profile
{
    private IReadOnlyList<ApiTokenInfo> _tokens = [];
    private string _tokenName = "";
    private int _tokenDays = 90;
    private string? _newToken;
    private string? _error;
    private bool _busy;

    [Inject]
    private ApiTokenService Tokens { get; set; } = default!;

    [Inject]
    private TimeProvider Time { get; set; } = default!;

    [Inject]
    private TwoFactorService TwoFactor { get; set; } = default!;

    private TwoFactorStatus? _twoFactor;
    private AuthenticatorSetup? _setup;
    private string _code = "";
    private IReadOnlyList<string> _recoveryCodes = [];

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnInitializedAsync() => await RunAsync(async () =>
    {
        await LoadTokensAsync();
        await LoadTwoFactorAsync();
    });

    private async Task LoadTwoFactorAsync() => _twoFactor = await TwoFactor.GetStatusAsync((await AuthenticationState).User);

    private Task BeginTwoFactorAsync() => RunAsync(async () =>
    {
        _setup = await TwoFactor.BeginAsync((await AuthenticationState).User, CancellationToken.None);
        _recoveryCodes = [];
    });

    private Task EnableTwoFactorAsync() => RunAsync(async () =>
    {
        _recoveryCodes = await TwoFactor.EnableAsync((await AuthenticationState).User, _code, CancellationToken.None);
        _setup = null;
        _code = "";
        await LoadTwoFactorAsync();
    });

    private Task NewRecoveryCodesAsync() => RunAsync(async () =>
    {
        _recoveryCodes = await TwoFactor.NewRecoveryCodesAsync((await AuthenticationState).User, _code);
        _code = "";
        await LoadTwoFactorAsync();
    });

    private Task DisableTwoFactorAsync() => RunAsync(async () =>
    {
        await TwoFactor.DisableAsync((await AuthenticationState).User, _code, CancellationToken.None);
        _code = "";
        _recoveryCodes = [];
        await LoadTwoFactorAsync();
    });

    private static string Format(DateTimeOffset time) => time.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private async Task LoadTokensAsync()
    {
        var state = await AuthenticationState;
        _tokens = await Tokens.ListAsync(state.User, CancellationToken.None);
    }

    private Task CreateTokenAsync() => RunAsync(async () =>
    {
        var state = await AuthenticationState;
        DateTimeOffset? expires = _tokenDays > 0 ? Time.GetUtcNow().AddDays(_tokenDays) : null;
        var created = await Tokens.CreateAsync(state.User, _tokenName, expires, CancellationToken.None);
        _newToken = created.Token;
        _tokenName = "";
        await LoadTokensAsync();
    });

    private Task RevokeTokenAsync(ApiTokenInfo token) => RunAsync(async () =>
    {
        var state = await AuthenticationState;
        await Tokens.RevokeAsync(state.User, token.Id, CancellationToken.None);
        _newToken = null;
        await LoadTokensAsync();
    });

    /// <summary>One action at a time (a double click does not create two tokens); refusals shown, never thrown.</summary>
    private async Task RunAsync(Func<Task> action)
    {
        if (_busy)
        {
            return;
        }

        _busy = true;
        _error = null;
        try
        {
            await action();
        }
        catch (Exception e) when (e is ApiTokenException or DashboardForbiddenException or TotpException)
        {
            _error = e.Message;
        }
        finally
        {
            _busy = false;
        }
    }
}
