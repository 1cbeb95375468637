-- CreateTable
CREATE TABLE "CanaryRollout" (
    "id" SERIAL NOT NULL,
    "service" TEXT NOT NULL,
    "baseline" TEXT NOT NULL,
    "canary" TEXT NOT NULL,
    "settings" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "stepIndex" INTEGER NOT NULL DEFAULT 0,
    "failedChecks" INTEGER NOT NULL DEFAULT 0,
    "windowStart" TIMESTAMP(3) NOT NULL,
    "dataFrom" TIMESTAMP(3) NOT NULL,
    "message" TEXT NOT NULL DEFAULT '',
    "startedBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "CanaryRollout_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CanaryCheck" (
    "id" SERIAL NOT NULL,
    "rolloutId" INTEGER NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "windowStart" TIMESTAMP(3) NOT NULL,
    "windowEnd" TIMESTAMP(3) NOT NULL,
    "stepIndex" INTEGER NOT NULL,
    "weight" INTEGER NOT NULL,
    "verdict" TEXT NOT NULL,
    "reasons" TEXT NOT NULL DEFAULT '',
    "canaryRequests" INTEGER NOT NULL,
    "canarySuccessPct" DOUBLE PRECISION,
    "canaryP99Ms" DOUBLE PRECISION,
    "baselineRequests" INTEGER NOT NULL,
    "baselineSuccessPct" DOUBLE PRECISION,
    "baselineP99Ms" DOUBLE PRECISION,
    "action" TEXT NOT NULL,
    "revisionId" INTEGER,

    CONSTRAINT "CanaryCheck_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "CanaryRollout_service_createdAt_idx" ON "CanaryRollout"("service", "createdAt");

-- CreateIndex
CREATE INDEX "CanaryRollout_phase_idx" ON "CanaryRollout"("phase");

-- CreateIndex
CREATE INDEX "CanaryCheck_rolloutId_at_idx" ON "CanaryCheck"("rolloutId", "at");

-- AddForeignKey
ALTER TABLE "CanaryCheck" ADD CONSTRAINT "CanaryCheck_rolloutId_fkey" FOREIGN KEY ("rolloutId") REFERENCES "CanaryRollout"("id") ON DELETE CASCADE ON UPDATE CASCADE;

