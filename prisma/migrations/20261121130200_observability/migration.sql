-- CreateTable
CREATE TABLE "Span" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "traceId" TEXT NOT NULL,
    "spanId" TEXT NOT NULL,
    "parentSpanId" TEXT,
    "kind" TEXT NOT NULL,
    "service" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "peerService" TEXT,
    "name" TEXT NOT NULL,
    "startTime" DATETIME NOT NULL,
    "startUnixMs" REAL NOT NULL,
    "durationMs" REAL NOT NULL,
    "status" INTEGER NOT NULL,
    "error" TEXT,
    "attributes" TEXT NOT NULL DEFAULT '{}',
    "events" TEXT NOT NULL DEFAULT '[]',
    "receivedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "MetricRollup" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "bucketStart" DATETIME NOT NULL,
    "resolutionSeconds" INTEGER NOT NULL,
    "source" TEXT NOT NULL,
    "sourceVersion" TEXT NOT NULL,
    "destination" TEXT NOT NULL,
    "destinationVersion" TEXT NOT NULL,
    "requests" INTEGER NOT NULL,
    "errors" INTEGER NOT NULL,
    "histogram" TEXT NOT NULL,
    "sumMs" REAL NOT NULL
);

-- CreateTable
CREATE TABLE "TelemetryPolicy" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "sampleRate" REAL NOT NULL DEFAULT 0.01,
    "slowThresholdMs" INTEGER NOT NULL DEFAULT 1000,
    "slowThresholdMsByService" TEXT NOT NULL DEFAULT '{}',
    "updatedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "Span_traceId_idx" ON "Span"("traceId");

-- CreateIndex
CREATE INDEX "Span_startTime_idx" ON "Span"("startTime");

-- CreateIndex
CREATE INDEX "Span_service_startTime_idx" ON "Span"("service", "startTime");

-- CreateIndex
CREATE INDEX "Span_service_peerService_startTime_idx" ON "Span"("service", "peerService", "startTime");

-- CreateIndex
CREATE INDEX "Span_error_startTime_idx" ON "Span"("error", "startTime");

-- CreateIndex
CREATE INDEX "Span_durationMs_idx" ON "Span"("durationMs");

-- CreateIndex
CREATE INDEX "MetricRollup_destination_bucketStart_idx" ON "MetricRollup"("destination", "bucketStart");

-- CreateIndex
CREATE INDEX "MetricRollup_source_bucketStart_idx" ON "MetricRollup"("source", "bucketStart");

-- CreateIndex
CREATE INDEX "MetricRollup_bucketStart_idx" ON "MetricRollup"("bucketStart");

-- CreateIndex
CREATE UNIQUE INDEX "MetricRollup_resolutionSeconds_bucketStart_source_sourceVersion_destination_destinationVersion_key" ON "MetricRollup"("resolutionSeconds", "bucketStart", "source", "sourceVersion", "destination", "destinationVersion");

