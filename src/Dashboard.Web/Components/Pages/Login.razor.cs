using Dashboard.Web.Identity;
using Microsoft.AspNetCore.Components;

namespace Dashboard.Web.Components.Pages;

public partial class Login
{
    [Inject]
    private IBootstrapStatus Bootstrap { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "error")]
    public string? Error { get; set; }

    [SupplyParameterFromQuery(Name = "created")]
    public string? Created { get; set; }

    [SupplyParameterFromQuery(Name = "returnUrl")]
    public string? ReturnUrl { get; set; }

    private bool BootstrapNeeded { get; set; }

    private string SafeReturnUrl => AccountEndpoints.SafeReturnUrl(ReturnUrl);

    private string? Message => Error switch
    {
        "locked" => "Too many failed attempts; this account is locked for a while.",
        "expired" => "The sign-in took too long; sign in again.",
        "notallowed" => "This account may not sign in.",
        { } => "Wrong user name or password.",
        null when Created is not null => "Admin account created. Sign in.",
        _ => null,
    };

    protected override async Task OnInitializedAsync() => BootstrapNeeded = await Bootstrap.IsNeededAsync();
}
