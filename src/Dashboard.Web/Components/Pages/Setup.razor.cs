using Dashboard.Web.Identity;
using Microsoft.AspNetCore.Components;

namespace Dashboard.Web.Components.Pages;

public partial class Setup
{
    [Inject]
    private IBootstrapStatus Bootstrap { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "error")]
    public string? Error { get; set; }

    [SupplyParameterFromQuery(Name = "detail")]
    public string? Detail { get; set; }

    private bool Needed { get; set; }

    private string? Message => Error switch
    {
        "secret" => "The bootstrap secret is wrong.",
        "unavailable" => "No bootstrap secret is available on the host (missing, already used or too short).",
        "mismatch" => "The passwords differ.",
        "account" => $"The account was not accepted: {Detail}",
        null => null,
        _ => "The admin account could not be created.",
    };

    protected override async Task OnInitializedAsync() => Needed = await Bootstrap.IsNeededAsync();
}
