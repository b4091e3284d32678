using Microsoft.AspNetCore.Identity;

namespace Dashboard.Web.Identity;

public sealed class WebUser : IdentityUser
{
}
