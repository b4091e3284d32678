using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dashboard.Engine.Store.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "containers",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Image = table.Column<string>(type: "TEXT", nullable: false),
                    ImageId = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedNano = table.Column<long>(type: "INTEGER", nullable: false),
                    ConfigJson = table.Column<string>(type: "TEXT", nullable: false),
                    HostConfigJson = table.Column<string>(type: "TEXT", nullable: false),
                    Path = table.Column<string>(type: "TEXT", nullable: false),
                    ArgsJson = table.Column<string>(type: "TEXT", nullable: false),
                    BundleDir = table.Column<string>(type: "TEXT", nullable: false),
                    LogPath = table.Column<string>(type: "TEXT", nullable: false),
                    Status = table.Column<string>(type: "TEXT", nullable: false),
                    Pid = table.Column<int>(type: "INTEGER", nullable: false),
                    ShimPid = table.Column<int>(type: "INTEGER", nullable: false),
                    ExitCode = table.Column<int>(type: "INTEGER", nullable: false),
                    OomKilled = table.Column<bool>(type: "INTEGER", nullable: false),
                    Error = table.Column<string>(type: "TEXT", nullable: false),
                    StartedAtNano = table.Column<long>(type: "INTEGER", nullable: true),
                    FinishedAtNano = table.Column<long>(type: "INTEGER", nullable: true),
                    RestartCount = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_containers", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "events",
                columns: table => new
                {
                    Seq = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    TimeNano = table.Column<long>(type: "INTEGER", nullable: false),
                    Type = table.Column<string>(type: "TEXT", nullable: false),
                    Action = table.Column<string>(type: "TEXT", nullable: false),
                    ActorId = table.Column<string>(type: "TEXT", nullable: false),
                    AttributesJson = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_events", x => x.Seq);
                });

            migrationBuilder.CreateTable(
                name: "images",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedNano = table.Column<long>(type: "INTEGER", nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    ConfigJson = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_images", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "networks",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", nullable: false),
                    Driver = table.Column<string>(type: "TEXT", nullable: false),
                    Subnet = table.Column<string>(type: "TEXT", nullable: true),
                    Gateway = table.Column<string>(type: "TEXT", nullable: true),
                    CreatedNano = table.Column<long>(type: "INTEGER", nullable: false),
                    LabelsJson = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_networks", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "volumes",
                columns: table => new
                {
                    Name = table.Column<string>(type: "TEXT", nullable: false),
                    Driver = table.Column<string>(type: "TEXT", nullable: false),
                    Mountpoint = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedNano = table.Column<long>(type: "INTEGER", nullable: false),
                    LabelsJson = table.Column<string>(type: "TEXT", nullable: false),
                    OptionsJson = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_volumes", x => x.Name);
                });

            migrationBuilder.CreateTable(
                name: "exec_sessions",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", nullable: false),
                    ContainerId = table.Column<string>(type: "TEXT", nullable: false),
                    ProcessJson = table.Column<string>(type: "TEXT", nullable: false),
                    Running = table.Column<bool>(type: "INTEGER", nullable: false),
                    ExitCode = table.Column<int>(type: "INTEGER", nullable: true),
                    Pid = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedNano = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_exec_sessions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_exec_sessions_containers_ContainerId",
                        column: x => x.ContainerId,
                        principalTable: "containers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "stats_samples",
                columns: table => new
                {
                    ContainerId = table.Column<string>(type: "TEXT", nullable: false),
                    Resolution = table.Column<int>(type: "INTEGER", nullable: false),
                    TimeSeconds = table.Column<long>(type: "INTEGER", nullable: false),
                    CpuUsageNanos = table.Column<long>(type: "INTEGER", nullable: false),
                    CpuThrottledNanos = table.Column<long>(type: "INTEGER", nullable: false),
                    MemoryUsage = table.Column<long>(type: "INTEGER", nullable: false),
                    MemoryLimit = table.Column<long>(type: "INTEGER", nullable: false),
                    MemoryCache = table.Column<long>(type: "INTEGER", nullable: false),
                    Pids = table.Column<long>(type: "INTEGER", nullable: false),
                    BlockRead = table.Column<long>(type: "INTEGER", nullable: false),
                    BlockWrite = table.Column<long>(type: "INTEGER", nullable: false),
                    NetRx = table.Column<long>(type: "INTEGER", nullable: false),
                    NetTx = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_stats_samples", x => new { x.ContainerId, x.Resolution, x.TimeSeconds });
                    table.ForeignKey(
                        name: "FK_stats_samples_containers_ContainerId",
                        column: x => x.ContainerId,
                        principalTable: "containers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "image_references",
                columns: table => new
                {
                    Reference = table.Column<string>(type: "TEXT", nullable: false),
                    ImageId = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_image_references", x => x.Reference);
                    table.ForeignKey(
                        name: "FK_image_references_images_ImageId",
                        column: x => x.ImageId,
                        principalTable: "images",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_containers_Name",
                table: "containers",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_events_TimeNano",
                table: "events",
                column: "TimeNano");

            migrationBuilder.CreateIndex(
                name: "IX_exec_sessions_ContainerId",
                table: "exec_sessions",
                column: "ContainerId");

            migrationBuilder.CreateIndex(
                name: "IX_image_references_ImageId",
                table: "image_references",
                column: "ImageId");

            migrationBuilder.CreateIndex(
                name: "IX_networks_Name",
                table: "networks",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_stats_samples_Resolution_TimeSeconds",
                table: "stats_samples",
                columns: new[] { "Resolution", "TimeSeconds" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "events");

            migrationBuilder.DropTable(
                name: "exec_sessions");

            migrationBuilder.DropTable(
                name: "image_references");

            migrationBuilder.DropTable(
                name: "networks");

            migrationBuilder.DropTable(
                name: "stats_samples");

            migrationBuilder.DropTable(
                name: "volumes");

            migrationBuilder.DropTable(
                name: "images");

            migrationBuilder.DropTable(
                name: "containers");
        }
    }
}
