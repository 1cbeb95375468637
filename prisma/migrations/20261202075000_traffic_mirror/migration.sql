-- Traffic mirroring (issue 14): a service's mirror {version, percent} as JSON (NULL = none).
-- AlterTable
ALTER TABLE "TrafficPolicy" ADD COLUMN "mirror" TEXT;
