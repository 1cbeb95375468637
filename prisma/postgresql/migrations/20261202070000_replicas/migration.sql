-- AlterTable
ALTER TABLE "Instance" ADD COLUMN     "replicaId" TEXT;

-- AlterTable
ALTER TABLE "MeshState" ADD COLUMN     "configKey" TEXT;

-- CreateTable
CREATE TABLE "Replica" (
    "id" TEXT NOT NULL,
    "url" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeatAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Replica_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Lease" (
    "name" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "acquiredAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Lease_pkey" PRIMARY KEY ("name")
);

