using System.Runtime.CompilerServices;
using Bunit;

namespace Dashboard.Web.Tests.Components;

/// <summary>
/// bUnit's <c>WaitForAssertion</c>/<c>WaitForElement</c>/<c>WaitForState</c> give up after one second by default:
/// on a loaded 2-core CI machine a render after an async load can take longer. They return as soon as the
/// condition holds, so a long bound costs nothing when the test passes.
/// </summary>
internal static class WaitTimeouts
{
    [ModuleInitializer]
    internal static void Initialize() => BunitContext.DefaultWaitTimeout = Eventually.Timeout;
}
