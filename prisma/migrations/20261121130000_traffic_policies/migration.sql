-- CreateTable
CREATE TABLE "TrafficPolicy" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "serviceName" TEXT NOT NULL,
    "split" TEXT,
    "routes" TEXT NOT NULL DEFAULT '[]',
    "updatedAt" DATETIME NOT NULL,
    "updatedBy" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "ResiliencePolicy" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "serviceName" TEXT NOT NULL,
    "timeoutMs" INTEGER,
    "loadBalancer" TEXT,
    "retries" TEXT,
    "circuitBreaker" TEXT,
    "outlierDetection" TEXT,
    "faultInjection" TEXT,
    "updatedAt" DATETIME NOT NULL,
    "updatedBy" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "ConfigRevision" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "serviceName" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "before" TEXT NOT NULL,
    "after" TEXT NOT NULL,
    "diff" TEXT NOT NULL,
    "configVersion" INTEGER NOT NULL DEFAULT 0,
    "rollbackOf" INTEGER
);

-- CreateIndex
CREATE UNIQUE INDEX "TrafficPolicy_serviceName_key" ON "TrafficPolicy"("serviceName");

-- CreateIndex
CREATE UNIQUE INDEX "ResiliencePolicy_serviceName_key" ON "ResiliencePolicy"("serviceName");

-- CreateIndex
CREATE INDEX "ConfigRevision_serviceName_id_idx" ON "ConfigRevision"("serviceName", "id");

