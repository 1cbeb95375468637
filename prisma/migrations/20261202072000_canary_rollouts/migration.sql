-- Canary rollouts (issue 14): the rollout's state machine state and its analysis windows.
-- CreateTable
CREATE TABLE "CanaryRollout" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "service" TEXT NOT NULL,
    "baseline" TEXT NOT NULL,
    "canary" TEXT NOT NULL,
    "settings" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "stepIndex" INTEGER NOT NULL DEFAULT 0,
    "failedChecks" INTEGER NOT NULL DEFAULT 0,
    "windowStart" DATETIME NOT NULL,
    "dataFrom" DATETIME NOT NULL,
    "message" TEXT NOT NULL DEFAULT '',
    "startedBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME
);

-- CreateTable
CREATE TABLE "CanaryCheck" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "rolloutId" INTEGER NOT NULL,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "windowStart" DATETIME NOT NULL,
    "windowEnd" DATETIME NOT NULL,
    "stepIndex" INTEGER NOT NULL,
    "weight" INTEGER NOT NULL,
    "verdict" TEXT NOT NULL,
    "reasons" TEXT NOT NULL DEFAULT '',
    "canaryRequests" INTEGER NOT NULL,
    "canarySuccessPct" REAL,
    "canaryP99Ms" REAL,
    "baselineRequests" INTEGER NOT NULL,
    "baselineSuccessPct" REAL,
    "baselineP99Ms" REAL,
    "action" TEXT NOT NULL,
    "revisionId" INTEGER,
    CONSTRAINT "CanaryCheck_rolloutId_fkey" FOREIGN KEY ("rolloutId") REFERENCES "CanaryRollout" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "CanaryRollout_service_createdAt_idx" ON "CanaryRollout"("service", "createdAt");

-- CreateIndex
CREATE INDEX "CanaryRollout_phase_idx" ON "CanaryRollout"("phase");

-- CreateIndex
CREATE INDEX "CanaryCheck_rolloutId_at_idx" ON "CanaryCheck"("rolloutId", "at");

