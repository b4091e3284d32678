namespace Dashboard.Web.Security;

/// <summary>The current user may not do this; the message names the action and is safe to show.</summary>
public sealed class DashboardForbiddenException(string message) : Exception(message);
