-- AlterTable
ALTER TABLE "TrafficPolicy" ADD COLUMN     "mirror" TEXT;

