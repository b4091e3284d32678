CREATE TABLE IF NOT EXISTS "__EFMigrationsHistory" (
    "MigrationId" TEXT NOT NULL CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY,
    "ProductVersion" TEXT NOT NULL
);

BEGIN TRANSACTION;
CREATE TABLE "containers" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_containers" PRIMARY KEY,
    "Name" TEXT NOT NULL,
    "Image" TEXT NOT NULL,
    "ImageId" TEXT NOT NULL,
    "CreatedNano" INTEGER NOT NULL,
    "ConfigJson" TEXT NOT NULL,
    "HostConfigJson" TEXT NOT NULL,
    "Path" TEXT NOT NULL,
    "ArgsJson" TEXT NOT NULL,
    "BundleDir" TEXT NOT NULL,
    "LogPath" TEXT NOT NULL,
    "Status" TEXT NOT NULL,
    "Pid" INTEGER NOT NULL,
    "ShimPid" INTEGER NOT NULL,
    "ExitCode" INTEGER NOT NULL,
    "OomKilled" INTEGER NOT NULL,
    "Error" TEXT NOT NULL,
    "StartedAtNano" INTEGER NULL,
    "FinishedAtNano" INTEGER NULL,
    "RestartCount" INTEGER NOT NULL
);

CREATE TABLE "events" (
    "Seq" INTEGER NOT NULL CONSTRAINT "PK_events" PRIMARY KEY AUTOINCREMENT,
    "TimeNano" INTEGER NOT NULL,
    "Type" TEXT NOT NULL,
    "Action" TEXT NOT NULL,
    "ActorId" TEXT NOT NULL,
    "AttributesJson" TEXT NOT NULL
);

CREATE TABLE "images" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_images" PRIMARY KEY,
    "CreatedNano" INTEGER NOT NULL,
    "Size" INTEGER NOT NULL,
    "ConfigJson" TEXT NOT NULL
);

CREATE TABLE "networks" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_networks" PRIMARY KEY,
    "Name" TEXT NOT NULL,
    "Driver" TEXT NOT NULL,
    "Subnet" TEXT NULL,
    "Gateway" TEXT NULL,
    "CreatedNano" INTEGER NOT NULL,
    "LabelsJson" TEXT NOT NULL
);

CREATE TABLE "volumes" (
    "Name" TEXT NOT NULL CONSTRAINT "PK_volumes" PRIMARY KEY,
    "Driver" TEXT NOT NULL,
    "Mountpoint" TEXT NOT NULL,
    "CreatedNano" INTEGER NOT NULL,
    "LabelsJson" TEXT NOT NULL,
    "OptionsJson" TEXT NOT NULL
);

CREATE TABLE "exec_sessions" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_exec_sessions" PRIMARY KEY,
    "ContainerId" TEXT NOT NULL,
    "ProcessJson" TEXT NOT NULL,
    "Running" INTEGER NOT NULL,
    "ExitCode" INTEGER NULL,
    "Pid" INTEGER NOT NULL,
    "CreatedNano" INTEGER NOT NULL,
    CONSTRAINT "FK_exec_sessions_containers_ContainerId" FOREIGN KEY ("ContainerId") REFERENCES "containers" ("Id") ON DELETE CASCADE
);

CREATE TABLE "stats_samples" (
    "ContainerId" TEXT NOT NULL,
    "Resolution" INTEGER NOT NULL,
    "TimeSeconds" INTEGER NOT NULL,
    "CpuUsageNanos" INTEGER NOT NULL,
    "CpuThrottledNanos" INTEGER NOT NULL,
    "MemoryUsage" INTEGER NOT NULL,
    "MemoryLimit" INTEGER NOT NULL,
    "MemoryCache" INTEGER NOT NULL,
    "Pids" INTEGER NOT NULL,
    "BlockRead" INTEGER NOT NULL,
    "BlockWrite" INTEGER NOT NULL,
    "NetRx" INTEGER NOT NULL,
    "NetTx" INTEGER NOT NULL,
    CONSTRAINT "PK_stats_samples" PRIMARY KEY ("ContainerId", "Resolution", "TimeSeconds"),
    CONSTRAINT "FK_stats_samples_containers_ContainerId" FOREIGN KEY ("ContainerId") REFERENCES "containers" ("Id") ON DELETE CASCADE
);

CREATE TABLE "image_references" (
    "Reference" TEXT NOT NULL CONSTRAINT "PK_image_references" PRIMARY KEY,
    "ImageId" TEXT NOT NULL,
    CONSTRAINT "FK_image_references_images_ImageId" FOREIGN KEY ("ImageId") REFERENCES "images" ("Id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "IX_containers_Name" ON "containers" ("Name");

CREATE INDEX "IX_events_TimeNano" ON "events" ("TimeNano");

CREATE INDEX "IX_exec_sessions_ContainerId" ON "exec_sessions" ("ContainerId");

CREATE INDEX "IX_image_references_ImageId" ON "image_references" ("ImageId");

CREATE UNIQUE INDEX "IX_networks_Name" ON "networks" ("Name");

CREATE INDEX "IX_stats_samples_Resolution_TimeSeconds" ON "stats_samples" ("Resolution", "TimeSeconds");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261130065135_Initial', '10.0.15');

COMMIT;

