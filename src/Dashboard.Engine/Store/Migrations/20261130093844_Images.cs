using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dashboard.Engine.Store.Migrations
{
    /// <inheritdoc />
    public partial class Images : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Architecture",
                table: "images",
                type: "TEXT",
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "ManifestDigest",
                table: "images",
                type: "TEXT",
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "ManifestMediaType",
                table: "images",
                type: "TEXT",
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "Os",
                table: "images",
                type: "TEXT",
                nullable: false,
                defaultValue: "");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Architecture",
                table: "images");

            migrationBuilder.DropColumn(
                name: "ManifestDigest",
                table: "images");

            migrationBuilder.DropColumn(
                name: "ManifestMediaType",
                table: "images");

            migrationBuilder.DropColumn(
                name: "Os",
                table: "images");
        }
    }
}
