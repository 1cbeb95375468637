-- Config revisions name the part of the config they changed (traffic | mtls | authz | sampling) and may be mesh-wide
-- (serviceName null: the sampling policy). Existing rows: security revisions are recognised by their documents' keys.
-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ConfigRevision" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "part" TEXT NOT NULL DEFAULT 'traffic',
    "serviceName" TEXT,
    "kind" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "before" TEXT NOT NULL,
    "after" TEXT NOT NULL,
    "diff" TEXT NOT NULL,
    "configVersion" INTEGER NOT NULL DEFAULT 0,
    "rollbackOf" INTEGER
);
INSERT INTO "new_ConfigRevision" ("actor", "after", "before", "configVersion", "createdAt", "diff", "id", "kind", "rollbackOf", "serviceName", "summary") SELECT "actor", "after", "before", "configVersion", "createdAt", "diff", "id", "kind", "rollbackOf", "serviceName", "summary" FROM "ConfigRevision";
DROP TABLE "ConfigRevision";
ALTER TABLE "new_ConfigRevision" RENAME TO "ConfigRevision";
CREATE INDEX "ConfigRevision_serviceName_id_idx" ON "ConfigRevision"("serviceName", "id");
CREATE INDEX "ConfigRevision_part_serviceName_id_idx" ON "ConfigRevision"("part", "serviceName", "id");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;


-- Backfill: mTLS and authorization revisions (and their rollbacks) hold {"mtls":…} / {"authorization":…} documents.
UPDATE "ConfigRevision" SET "part" = 'mtls' WHERE "before" LIKE '{"mtls":%' OR "after" LIKE '{"mtls":%';
UPDATE "ConfigRevision" SET "part" = 'authz' WHERE "before" LIKE '{"authorization":%' OR "after" LIKE '{"authorization":%';
