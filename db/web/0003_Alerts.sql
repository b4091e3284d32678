BEGIN TRANSACTION;
CREATE TABLE "alert_notifications" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_alert_notifications" PRIMARY KEY AUTOINCREMENT,
    "RuleId" INTEGER NULL,
    "RuleName" TEXT NOT NULL,
    "Kind" TEXT NOT NULL,
    "Engine" TEXT NOT NULL,
    "ContainerId" TEXT NOT NULL,
    "ContainerName" TEXT NOT NULL,
    "Message" TEXT NOT NULL,
    "TimeUtc" TEXT NOT NULL,
    "Read" INTEGER NOT NULL
);

CREATE TABLE "alert_rules" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_alert_rules" PRIMARY KEY AUTOINCREMENT,
    "Name" TEXT NOT NULL,
    "Kind" TEXT NOT NULL,
    "Enabled" INTEGER NOT NULL,
    "Threshold" REAL NOT NULL,
    "Minutes" INTEGER NOT NULL,
    "ContainerFilter" TEXT NOT NULL,
    "Engine" TEXT NOT NULL
);

CREATE TABLE "alert_settings" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_alert_settings" PRIMARY KEY,
    "WebhookUrl" TEXT NULL
);

CREATE INDEX "IX_alert_notifications_Read" ON "alert_notifications" ("Read");

CREATE INDEX "IX_alert_notifications_TimeUtc" ON "alert_notifications" ("TimeUtc");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261130125118_Alerts', '10.0.15');

COMMIT;

