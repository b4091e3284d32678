BEGIN TRANSACTION;
CREATE TABLE "remote_engines" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_remote_engines" PRIMARY KEY AUTOINCREMENT,
    "Name" TEXT NOT NULL,
    "Url" TEXT NOT NULL,
    "CaPem" TEXT NOT NULL,
    "CertPem" TEXT NOT NULL,
    "ProtectedKey" TEXT NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "CreatedBy" TEXT NOT NULL
);

CREATE UNIQUE INDEX "IX_remote_engines_Name" ON "remote_engines" ("Name");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261130152906_RemoteEngines', '10.0.15');

COMMIT;

