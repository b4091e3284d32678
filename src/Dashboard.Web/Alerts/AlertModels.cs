using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dashboard.Web.Alerts;

public enum AlertKind
{
    /// <summary>A container exited (engine event <c>die</c>).</summary>
    Died,

    /// <summary>A health check turned unhealthy (<c>health_status: unhealthy</c>).</summary>
    Unhealthy,

    /// <summary>At least <see cref="AlertRule.Threshold"/> starts within <see cref="AlertRule.Minutes"/>.</summary>
    RestartLoop,

    /// <summary>CPU % (100 = one core) over <see cref="AlertRule.Threshold"/> for <see cref="AlertRule.Minutes"/>.</summary>
    CpuAbove,

    /// <summary>Memory use over <see cref="AlertRule.Threshold"/> % of the limit for <see cref="AlertRule.Minutes"/>.</summary>
    MemoryAbove,
}

/// <summary>An alert rule an Admin edits; stored in the web database.</summary>
public sealed class AlertRule
{
    public int Id { get; set; }

    public string Name { get; set; } = "";

    public AlertKind Kind { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>Percent for CPU and memory rules; number of starts for a restart loop; unused otherwise.</summary>
    public double Threshold { get; set; }

    /// <summary>How long a value stays over the threshold, or the restart loop's window.</summary>
    public int Minutes { get; set; }

    /// <summary>Only containers whose name contains this (case-insensitive); empty means every container.</summary>
    public string ContainerFilter { get; set; } = "";

    /// <summary>Only this engine; empty means every engine.</summary>
    public string Engine { get; set; } = "";

    public AlertRule Clone() => (AlertRule)MemberwiseClone();

    /// <summary>Null when the rule can be saved; otherwise what is wrong with it.</summary>
    public string? Problem() => this switch
    {
        { Name.Length: 0 or > 100 } => "name must be 1-100 characters",
        { ContainerFilter.Length: > 200 } => "container filter must be at most 200 characters",
        { Kind: AlertKind.CpuAbove or AlertKind.MemoryAbove, Threshold: <= 0 or > 10_000 } => "threshold must be a percentage above 0",
        { Kind: AlertKind.CpuAbove or AlertKind.MemoryAbove, Minutes: < 0 or > 1440 } => "minutes must be 0-1440",
        { Kind: AlertKind.RestartLoop, Threshold: < 2 or > 1000 } => "a restart loop needs at least 2 starts",
        { Kind: AlertKind.RestartLoop, Minutes: < 1 or > 1440 } => "window must be 1-1440 minutes",
        _ when !Enum.IsDefined(Kind) => "unknown kind",
        _ => null,
    };

    public string Describe() => Kind switch
    {
        AlertKind.Died => "container died",
        AlertKind.Unhealthy => "container unhealthy",
        AlertKind.RestartLoop => $"{Threshold:0} starts within {Minutes} min",
        AlertKind.CpuAbove => $"CPU over {Threshold:0.#}% for {Minutes} min",
        AlertKind.MemoryAbove => $"memory over {Threshold:0.#}% of limit for {Minutes} min",
        _ => Kind.ToString(),
    };
}

/// <summary>One fired alert, shown under each user's bell until that user marks it read.</summary>
public sealed class AlertNotification
{
    public long Id { get; set; }

    public int? RuleId { get; set; }

    public string RuleName { get; set; } = "";

    public AlertKind Kind { get; set; }

    public string Engine { get; set; } = "";

    public string ContainerId { get; set; } = "";

    public string ContainerName { get; set; } = "";

    /// <summary>Built from engine data (container names are untrusted): rendered as text, never markup.</summary>
    public string Message { get; set; } = "";

    public DateTime TimeUtc { get; set; }

    /// <summary>Whether the user the notification was read for has read it; not a column (read state is per user, <see cref="AlertReadState"/>).</summary>
    public bool Read { get; set; }
}

/// <summary>The alert settings row (there is one): the webhook alerts are POSTed to.</summary>
public sealed class AlertSettings
{
    public const int SingletonId = 1;

    public int Id { get; set; } = SingletonId;

    public string? WebhookUrl { get; set; }
}

internal sealed class AlertRuleConfiguration : IEntityTypeConfiguration<AlertRule>
{
    public void Configure(EntityTypeBuilder<AlertRule> builder)
    {
        builder.ToTable("alert_rules");
        builder.Property(r => r.Name).HasMaxLength(100);
        builder.Property(r => r.ContainerFilter).HasMaxLength(200);
        builder.Property(r => r.Engine).HasMaxLength(64);
        builder.Property(r => r.Kind).HasConversion<string>().HasMaxLength(20);
    }
}

internal sealed class AlertNotificationConfiguration : IEntityTypeConfiguration<AlertNotification>
{
    public void Configure(EntityTypeBuilder<AlertNotification> builder)
    {
        builder.ToTable("alert_notifications");
        builder.Property(n => n.Kind).HasConversion<string>().HasMaxLength(20);
        builder.Property(n => n.RuleName).HasMaxLength(100);
        builder.Property(n => n.Engine).HasMaxLength(64);
        builder.Property(n => n.ContainerId).HasMaxLength(128);
        builder.Property(n => n.ContainerName).HasMaxLength(256);
        builder.Property(n => n.Message).HasMaxLength(1000);
        builder.HasIndex(n => n.TimeUtc);
        builder.Ignore(n => n.Read);
    }
}

internal sealed class AlertSettingsConfiguration : IEntityTypeConfiguration<AlertSettings>
{
    public void Configure(EntityTypeBuilder<AlertSettings> builder)
    {
        builder.ToTable("alert_settings");
        builder.Property(s => s.Id).ValueGeneratedNever();
        builder.Property(s => s.WebhookUrl).HasMaxLength(2000);
    }
}
