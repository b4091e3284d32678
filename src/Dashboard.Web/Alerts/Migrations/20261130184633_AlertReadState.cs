using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dashboard.Web.Alerts.Migrations;

/// <inheritdoc />
public partial class AlertReadState : Migration
{
    /// <inheritdoc />
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "alert_read_state",
            columns: table => new
            {
                UserId = table.Column<string>(type: "TEXT", maxLength: 450, nullable: false),
                ReadThroughId = table.Column<long>(type: "INTEGER", nullable: false)
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_alert_read_state", x => x.UserId);
                table.ForeignKey(
                    name: "FK_alert_read_state_AspNetUsers_UserId",
                    column: x => x.UserId,
                    principalTable: "AspNetUsers",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "alert_reads",
            columns: table => new
            {
                UserId = table.Column<string>(type: "TEXT", maxLength: 450, nullable: false),
                NotificationId = table.Column<long>(type: "INTEGER", nullable: false)
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_alert_reads", x => new { x.UserId, x.NotificationId });
                table.ForeignKey(
                    name: "FK_alert_reads_AspNetUsers_UserId",
                    column: x => x.UserId,
                    principalTable: "AspNetUsers",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
                table.ForeignKey(
                    name: "FK_alert_reads_alert_notifications_NotificationId",
                    column: x => x.NotificationId,
                    principalTable: "alert_notifications",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateIndex(
            name: "IX_alert_reads_NotificationId",
            table: "alert_reads",
            column: "NotificationId");

        // Read state was global: whatever was marked read stays read for every existing user.
        migrationBuilder.Sql(
            """
            INSERT INTO "alert_reads" ("UserId", "NotificationId")
            SELECT "u"."Id", "n"."Id" FROM "AspNetUsers" AS "u" CROSS JOIN "alert_notifications" AS "n" WHERE "n"."Read";
            """);

        migrationBuilder.DropIndex(
            name: "IX_alert_notifications_Read",
            table: "alert_notifications");

        migrationBuilder.DropColumn(
            name: "Read",
            table: "alert_notifications");
    }

    /// <inheritdoc />
    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<bool>(
            name: "Read",
            table: "alert_notifications",
            type: "INTEGER",
            nullable: false,
            defaultValue: false);

        // Back to one global flag: read when any user had read it.
        migrationBuilder.Sql(
            """
            UPDATE "alert_notifications" SET "Read" = 1
            WHERE "Id" IN (SELECT "NotificationId" FROM "alert_reads")
               OR "Id" <= (SELECT COALESCE(MAX("ReadThroughId"), 0) FROM "alert_read_state");
            """);

        migrationBuilder.DropTable(
            name: "alert_read_state");

        migrationBuilder.DropTable(
            name: "alert_reads");

        migrationBuilder.CreateIndex(
            name: "IX_alert_notifications_Read",
            table: "alert_notifications",
            column: "Read");
    }
}
