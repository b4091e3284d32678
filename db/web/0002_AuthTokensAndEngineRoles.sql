BEGIN TRANSACTION;
CREATE TABLE "ApiTokens" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_ApiTokens" PRIMARY KEY,
    "UserId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "SecretHash" TEXT NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "ExpiresAt" TEXT NULL,
    "LastUsedAt" TEXT NULL,
    CONSTRAINT "FK_ApiTokens_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);

CREATE TABLE "EngineRoleAssignments" (
    "UserId" TEXT NOT NULL,
    "Engine" TEXT NOT NULL,
    "Role" TEXT NOT NULL,
    CONSTRAINT "PK_EngineRoleAssignments" PRIMARY KEY ("UserId", "Engine"),
    CONSTRAINT "FK_EngineRoleAssignments_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);

CREATE INDEX "IX_ApiTokens_UserId" ON "ApiTokens" ("UserId");

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261130123027_AuthTokensAndEngineRoles', '10.0.15');

COMMIT;

