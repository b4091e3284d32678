using Dashboard.Engine.Api;

namespace Dashboard.Engine.Images;

/// <summary>
/// Docker's create semantics for fields a client sends empty: an empty <c>User</c>, <c>WorkingDir</c>,
/// <c>StopSignal</c> or <c>Cmd</c> means "not set", so the image's value applies (moby
/// daemon/create.go merge: <c>if userConf.User == "" { userConf.User = imageConf.User }</c>).
/// </summary>
public static class CreateDefaults
{
    public static void EmptyAsUnset(ContainerCreateBody body)
    {
        if (body.User is "")
        {
            body.User = null;
        }

        if (body.WorkingDir is "")
        {
            body.WorkingDir = null;
        }

        if (body.StopSignal is "")
        {
            body.StopSignal = null;
        }

        if (body.Cmd is { Count: 0 })
        {
            body.Cmd = null;
        }
    }
}
