-- Several console replicas on one PostgreSQL (issue 11): who holds each agent's socket, the replicas' heartbeats, leases
-- for run-once work, and the topology hash the current config version was cut from.
-- AlterTable
ALTER TABLE "Instance" ADD COLUMN "replicaId" TEXT;

-- AlterTable
ALTER TABLE "MeshState" ADD COLUMN "configKey" TEXT;

-- CreateTable
CREATE TABLE "Replica" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "url" TEXT,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeatAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Lease" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "holder" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "acquiredAt" DATETIME NOT NULL
);

