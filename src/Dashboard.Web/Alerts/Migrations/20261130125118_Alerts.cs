using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dashboard.Web.Alerts.Migrations;

/// <inheritdoc />
public partial class Alerts : Migration
{
    /// <inheritdoc />
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "alert_notifications",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false)
                    .Annotation("Sqlite:Autoincrement", true),
                RuleId = table.Column<int>(type: "INTEGER", nullable: true),
                RuleName = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                Kind = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                Engine = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                ContainerId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                ContainerName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                Message = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                TimeUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                Read = table.Column<bool>(type: "INTEGER", nullable: false)
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_alert_notifications", x => x.Id);
            });

        migrationBuilder.CreateTable(
            name: "alert_rules",
            columns: table => new
            {
                Id = table.Column<int>(type: "INTEGER", nullable: false)
                    .Annotation("Sqlite:Autoincrement", true),
                Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                Kind = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                Threshold = table.Column<double>(type: "REAL", nullable: false),
                Minutes = table.Column<int>(type: "INTEGER", nullable: false),
                ContainerFilter = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                Engine = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false)
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_alert_rules", x => x.Id);
            });

        migrationBuilder.CreateTable(
            name: "alert_settings",
            columns: table => new
            {
                Id = table.Column<int>(type: "INTEGER", nullable: false),
                WebhookUrl = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true)
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_alert_settings", x => x.Id);
            });

        migrationBuilder.CreateIndex(
            name: "IX_alert_notifications_Read",
            table: "alert_notifications",
            column: "Read");

        migrationBuilder.CreateIndex(
            name: "IX_alert_notifications_TimeUtc",
            table: "alert_notifications",
            column: "TimeUtc");
    }

    /// <inheritdoc />
    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(
            name: "alert_notifications");

        migrationBuilder.DropTable(
            name: "alert_rules");

        migrationBuilder.DropTable(
            name: "alert_settings");
    }
}
