-- AlterTable
ALTER TABLE "ResiliencePolicy" ADD COLUMN     "idleTimeoutMs" INTEGER;

