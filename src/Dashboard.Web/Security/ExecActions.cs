using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using Dashboard.Web.Engines;

namespace Dashboard.Web.Security;

/// <summary>
/// The one entry point for web terminals: checks <see cref="DashboardAction.Exec"/> for the user and container on start
/// and again before forwarding input (a revoked role ends the session, D5), allows only the listed shells, and writes
/// the start and the end of every session to the audit log (issue 5 §8, security.md D2 CVE-2026-134804).
/// </summary>
public sealed class ExecActions(ActionAuthorizer authorizer, IEngineRegistry engines, IAuditLog audit)
{
    public const int MaxColumns = 500;
    public const int MaxRows = 300;

    /// <summary>How long one successful check covers input before the store is asked again.</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    public static IReadOnlyList<string> Shells { get; } = ["sh", "bash", "ash"];

    public async Task<TerminalSession> StartAsync(ClaimsPrincipal user, string engine, string containerId, string shell, int columns, int rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var target = $"container {engine}/{containerId}";
        ContainerActions.ValidateId(containerId, target);
        var who = await authorizer.EnsureAsync(user, DashboardAction.Exec, target, cancellationToken, engine);
        if (!Shells.Contains(shell))
        {
            await WriteAsync(who.UserName, "TerminalStart", target, AuditOutcome.Denied, $"shell {shell} not allowed");
            throw new DashboardForbiddenException($"shell {shell}: not allowed (choose {string.Join(", ", Shells)})");
        }

        IExecSession session;
        try
        {
            var client = engines.Get(engine);
            session = await client.StartExecAsync(containerId, new ExecRequest([shell], Math.Clamp(columns, 2, MaxColumns), Math.Clamp(rows, 1, MaxRows)), cancellationToken);
        }
        catch (EngineException e)
        {
            await WriteAsync(who.UserName, "TerminalStart", target, AuditOutcome.Failed, e.Message);
            throw;
        }

        await WriteAsync(who.UserName, "TerminalStart", target, AuditOutcome.Succeeded, $"shell {shell}, exec {session.ExecId}");
        return new TerminalSession(this, user, who.UserName ?? "", engine, target, session);
    }

    internal Task EnsureStillAllowedAsync(ClaimsPrincipal user, string engine, string target, CancellationToken cancellationToken) =>
        authorizer.EnsureAsync(user, DashboardAction.Exec, target, cancellationToken, engine);

    internal Task WriteAsync(string? user, string action, string target, AuditOutcome outcome, string? detail) =>
        audit.WriteAsync(new AuditEntry(DateTimeOffset.UtcNow, user ?? "", action, target, outcome, detail), CancellationToken.None);
}

/// <summary>One audited terminal session; disposing it ends the exec attachment and records the end.</summary>
public sealed class TerminalSession : IAsyncDisposable
{
    private readonly ExecActions _owner;
    private readonly ClaimsPrincipal _user;
    private readonly string _userName;
    private readonly IExecSession _session;
    private readonly Stopwatch _age = Stopwatch.StartNew();
    private TimeSpan _lastCheck;
    private string? _endReason;
    private int _disposed;

    private readonly string _engine;

    internal TerminalSession(ExecActions owner, ClaimsPrincipal user, string userName, string engine, string target, IExecSession session)
    {
        _engine = engine;
        _owner = owner;
        _user = user;
        _userName = userName;
        Target = target;
        _session = session;
        _lastCheck = _age.Elapsed;
    }

    public string Target { get; }

    public string ExecId => _session.ExecId;

    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => _session.ReadAsync(buffer, cancellationToken);

    /// <summary>Forwards keystrokes after re-checking the user's role at most once per <see cref="ExecActions.RecheckInterval"/>.</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await RecheckAsync(cancellationToken);
        await _session.WriteAsync(data, cancellationToken);
    }

    public async Task ResizeAsync(int columns, int rows, CancellationToken cancellationToken)
    {
        await RecheckAsync(cancellationToken);
        await _session.ResizeAsync(Math.Clamp(columns, 2, ExecActions.MaxColumns), Math.Clamp(rows, 1, ExecActions.MaxRows), cancellationToken);
    }

    public Task<long?> GetExitCodeAsync(CancellationToken cancellationToken) => _session.GetExitCodeAsync(cancellationToken);

    /// <summary>Why the session ended, recorded with the end entry (e.g. "exit code 0"); the first reason given wins.</summary>
    public void SetEndReason(string reason) => _endReason ??= reason;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _session.DisposeAsync();
        var seconds = _age.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
        await _owner.WriteAsync(_userName, "TerminalEnd", Target, AuditOutcome.Succeeded, $"exec {ExecId}, {_endReason ?? "closed"} after {seconds} s");
    }

    private async Task RecheckAsync(CancellationToken cancellationToken)
    {
        if (_age.Elapsed - _lastCheck < ExecActions.RecheckInterval)
        {
            return;
        }

        try
        {
            await _owner.EnsureStillAllowedAsync(_user, _engine, Target, cancellationToken);
        }
        catch (DashboardForbiddenException)
        {
            SetEndReason("permission revoked");
            throw;
        }

        _lastCheck = _age.Elapsed;
    }
}
