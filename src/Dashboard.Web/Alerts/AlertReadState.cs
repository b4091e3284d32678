using System.ComponentModel.DataAnnotations;
using System.ComponentModel.DataAnnotations.Schema;
using Dashboard.Web.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dashboard.Web.Alerts;

/// <summary>
/// A user's "mark all read" (issue 5 §11, read state is per user): every notification up to
/// <see cref="ReadThroughId"/> is read for them, so marking all read writes one row however many alerts there are.
/// </summary>
public sealed class AlertReadState
{
    [Key]
    [MaxLength(450)]
    public string UserId { get; set; } = "";

    public long ReadThroughId { get; set; }

    /// <summary>Deleting a user deletes their read state (cascade).</summary>
    [ForeignKey(nameof(UserId))]
    public WebUser? User { get; set; }
}

/// <summary>One notification a user marked read above their <see cref="AlertReadState.ReadThroughId"/>.</summary>
[PrimaryKey(nameof(UserId), nameof(NotificationId))]
[Index(nameof(NotificationId))]
public sealed class AlertRead
{
    [MaxLength(450)]
    public string UserId { get; set; } = "";

    public long NotificationId { get; set; }

    [ForeignKey(nameof(UserId))]
    public WebUser? User { get; set; }

    /// <summary>Pruning old notifications deletes their read marks (cascade).</summary>
    [ForeignKey(nameof(NotificationId))]
    public AlertNotification? Notification { get; set; }
}

internal sealed class AlertReadStateConfiguration : IEntityTypeConfiguration<AlertReadState>
{
    public void Configure(EntityTypeBuilder<AlertReadState> builder) => builder.ToTable("alert_read_state");
}

internal sealed class AlertReadConfiguration : IEntityTypeConfiguration<AlertRead>
{
    public void Configure(EntityTypeBuilder<AlertRead> builder) => builder.ToTable("alert_reads");
}
