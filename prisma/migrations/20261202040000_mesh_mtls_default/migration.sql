-- The mesh-wide mTLS default (issue 13): services without an MtlsPolicy row get this mode (no row here = PERMISSIVE).
-- CreateTable
CREATE TABLE "MeshMtlsPolicy" (
    "id" INTEGER NOT NULL PRIMARY KEY,
    "defaultMode" TEXT NOT NULL DEFAULT 'PERMISSIVE',
    "updatedAt" DATETIME NOT NULL,
    "updatedBy" TEXT NOT NULL
);
