BEGIN TRANSACTION;
CREATE TABLE "alert_read_state" (
    "UserId" TEXT NOT NULL CONSTRAINT "PK_alert_read_state" PRIMARY KEY,
    "ReadThroughId" INTEGER NOT NULL,
    CONSTRAINT "FK_alert_read_state_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);

CREATE TABLE "alert_reads" (
    "UserId" TEXT NOT NULL,
    "NotificationId" INTEGER NOT NULL,
    CONSTRAINT "PK_alert_reads" PRIMARY KEY ("UserId", "NotificationId"),
    CONSTRAINT "FK_alert_reads_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_alert_reads_alert_notifications_NotificationId" FOREIGN KEY ("NotificationId") REFERENCES "alert_notifications" ("Id") ON DELETE CASCADE
);

CREATE INDEX "IX_alert_reads_NotificationId" ON "alert_reads" ("NotificationId");

INSERT INTO "alert_reads" ("UserId", "NotificationId")
SELECT "u"."Id", "n"."Id" FROM "AspNetUsers" AS "u" CROSS JOIN "alert_notifications" AS "n" WHERE "n"."Read";

DROP INDEX "IX_alert_notifications_Read";

CREATE TABLE "ef_temp_alert_notifications" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_alert_notifications" PRIMARY KEY AUTOINCREMENT,
    "ContainerId" TEXT NOT NULL,
    "ContainerName" TEXT NOT NULL,
    "Engine" TEXT NOT NULL,
    "Kind" TEXT NOT NULL,
    "Message" TEXT NOT NULL,
    "RuleId" INTEGER NULL,
    "RuleName" TEXT NOT NULL,
    "TimeUtc" TEXT NOT NULL
);

INSERT INTO "ef_temp_alert_notifications" ("Id", "ContainerId", "ContainerName", "Engine", "Kind", "Message", "RuleId", "RuleName", "TimeUtc")
SELECT "Id", "ContainerId", "ContainerName", "Engine", "Kind", "Message", "RuleId", "RuleName", "TimeUtc"
FROM "alert_notifications";

COMMIT;

PRAGMA foreign_keys = 0;

BEGIN TRANSACTION;
DROP TABLE "alert_notifications";

ALTER TABLE "ef_temp_alert_notifications" RENAME TO "alert_notifications";

COMMIT;

PRAGMA foreign_keys = 1;

BEGIN TRANSACTION;
CREATE INDEX "IX_alert_notifications_TimeUtc" ON "alert_notifications" ("TimeUtc");

COMMIT;

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261130184633_AlertReadState', '10.0.15');

