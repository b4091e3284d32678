using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dashboard.Web.Engines.Migrations;

/// <inheritdoc />
public partial class RemoteEngines : Migration
{
    /// <inheritdoc />
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "remote_engines",
            columns: table => new
            {
                Id = table.Column<int>(type: "INTEGER", nullable: false)
                    .Annotation("Sqlite:Autoincrement", true),
                Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                Url = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                CaPem = table.Column<string>(type: "TEXT", maxLength: 65536, nullable: false),
                CertPem = table.Column<string>(type: "TEXT", maxLength: 65536, nullable: false),
                ProtectedKey = table.Column<string>(type: "TEXT", maxLength: 262144, nullable: false),
                CreatedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false)
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_remote_engines", x => x.Id);
            });

        migrationBuilder.CreateIndex(
            name: "IX_remote_engines_Name",
            table: "remote_engines",
            column: "Name",
            unique: true);
    }

    /// <inheritdoc />
    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(
            name: "remote_engines");
    }
}
