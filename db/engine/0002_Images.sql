BEGIN TRANSACTION;
ALTER TABLE "images" ADD "Architecture" TEXT NOT NULL DEFAULT '';

ALTER TABLE "images" ADD "ManifestDigest" TEXT NOT NULL DEFAULT '';

ALTER TABLE "images" ADD "ManifestMediaType" TEXT NOT NULL DEFAULT '';

ALTER TABLE "images" ADD "Os" TEXT NOT NULL DEFAULT '';

INSERT INTO "__EFMigrationsHistory" ("MigrationId", "ProductVersion")
VALUES ('20261130093844_Images', '10.0.15');

COMMIT;

