-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Service" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Service_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Subset" (
    "id" TEXT NOT NULL,
    "serviceId" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Subset_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Instance" (
    "id" TEXT NOT NULL,
    "instanceId" TEXT NOT NULL,
    "serviceId" TEXT NOT NULL,
    "subsetId" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "inboundPort" INTEGER NOT NULL,
    "outboundPort" INTEGER NOT NULL,
    "adminPort" INTEGER NOT NULL,
    "appPort" INTEGER NOT NULL,
    "agentVersion" TEXT NOT NULL,
    "connected" BOOLEAN NOT NULL DEFAULT false,
    "firstSeen" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeen" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ackedVersion" INTEGER NOT NULL DEFAULT 0,
    "sentVersion" INTEGER NOT NULL DEFAULT 0,
    "syncState" TEXT NOT NULL DEFAULT 'UNKNOWN',
    "syncError" TEXT,
    "syncedAt" TIMESTAMP(3),

    CONSTRAINT "Instance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MeshState" (
    "id" INTEGER NOT NULL,
    "configVersion" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "MeshState_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MtlsPolicy" (
    "id" TEXT NOT NULL,
    "serviceId" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "updatedBy" TEXT NOT NULL,

    CONSTRAINT "MtlsPolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuthorizationPolicy" (
    "id" TEXT NOT NULL,
    "serviceId" TEXT NOT NULL,
    "principals" TEXT NOT NULL,
    "methods" TEXT NOT NULL DEFAULT '[]',
    "paths" TEXT NOT NULL DEFAULT '[]',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdBy" TEXT NOT NULL,

    CONSTRAINT "AuthorizationPolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MeshMtlsPolicy" (
    "id" INTEGER NOT NULL,
    "defaultMode" TEXT NOT NULL DEFAULT 'PERMISSIVE',
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "updatedBy" TEXT NOT NULL,

    CONSTRAINT "MeshMtlsPolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "UserSession" (
    "id" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UserSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "JoinToken" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdBy" TEXT NOT NULL,
    "revokedAt" TIMESTAMP(3),
    "lastUsedAt" TIMESTAMP(3),
    "scope" TEXT,
    "lastUsedBy" TEXT,

    CONSTRAINT "JoinToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TrafficPolicy" (
    "id" TEXT NOT NULL,
    "serviceName" TEXT NOT NULL,
    "split" TEXT,
    "routes" TEXT NOT NULL DEFAULT '[]',
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "updatedBy" TEXT NOT NULL,

    CONSTRAINT "TrafficPolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ResiliencePolicy" (
    "id" TEXT NOT NULL,
    "serviceName" TEXT NOT NULL,
    "timeoutMs" INTEGER,
    "loadBalancer" TEXT,
    "retries" TEXT,
    "circuitBreaker" TEXT,
    "outlierDetection" TEXT,
    "faultInjection" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "updatedBy" TEXT NOT NULL,

    CONSTRAINT "ResiliencePolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ConfigRevision" (
    "id" SERIAL NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "part" TEXT NOT NULL DEFAULT 'traffic',
    "serviceName" TEXT,
    "kind" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "before" TEXT NOT NULL,
    "after" TEXT NOT NULL,
    "diff" TEXT NOT NULL,
    "configVersion" INTEGER NOT NULL DEFAULT 0,
    "rollbackOf" INTEGER,

    CONSTRAINT "ConfigRevision_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Span" (
    "id" SERIAL NOT NULL,
    "traceId" TEXT NOT NULL,
    "spanId" TEXT NOT NULL,
    "parentSpanId" TEXT,
    "kind" TEXT NOT NULL,
    "service" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "peerService" TEXT,
    "name" TEXT NOT NULL,
    "startTime" TIMESTAMP(3) NOT NULL,
    "startUnixMs" DOUBLE PRECISION NOT NULL,
    "durationMs" DOUBLE PRECISION NOT NULL,
    "status" INTEGER NOT NULL,
    "error" TEXT,
    "attributes" TEXT NOT NULL DEFAULT '{}',
    "events" TEXT NOT NULL DEFAULT '[]',
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Span_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MetricRollup" (
    "id" SERIAL NOT NULL,
    "bucketStart" TIMESTAMP(3) NOT NULL,
    "resolutionSeconds" INTEGER NOT NULL,
    "source" TEXT NOT NULL,
    "sourceVersion" TEXT NOT NULL,
    "destination" TEXT NOT NULL,
    "destinationVersion" TEXT NOT NULL,
    "requests" INTEGER NOT NULL,
    "errors" INTEGER NOT NULL,
    "histogram" TEXT NOT NULL,
    "sumMs" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "MetricRollup_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TelemetryPolicy" (
    "id" INTEGER NOT NULL,
    "sampleRate" DOUBLE PRECISION NOT NULL DEFAULT 0.01,
    "slowThresholdMs" INTEGER NOT NULL DEFAULT 1000,
    "slowThresholdMsByService" TEXT NOT NULL DEFAULT '{}',
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TelemetryPolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" SERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorKind" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "clientAddress" TEXT,
    "action" TEXT NOT NULL,
    "target" TEXT,
    "outcome" TEXT NOT NULL,
    "details" TEXT NOT NULL DEFAULT '{}',
    "revisionId" INTEGER,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Service_name_key" ON "Service"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Subset_serviceId_version_key" ON "Subset"("serviceId", "version");

-- CreateIndex
CREATE UNIQUE INDEX "Instance_instanceId_key" ON "Instance"("instanceId");

-- CreateIndex
CREATE INDEX "Instance_serviceId_idx" ON "Instance"("serviceId");

-- CreateIndex
CREATE INDEX "Instance_subsetId_idx" ON "Instance"("subsetId");

-- CreateIndex
CREATE INDEX "Instance_connected_lastSeen_idx" ON "Instance"("connected", "lastSeen");

-- CreateIndex
CREATE UNIQUE INDEX "MtlsPolicy_serviceId_key" ON "MtlsPolicy"("serviceId");

-- CreateIndex
CREATE INDEX "AuthorizationPolicy_serviceId_idx" ON "AuthorizationPolicy"("serviceId");

-- CreateIndex
CREATE UNIQUE INDEX "User_username_key" ON "User"("username");

-- CreateIndex
CREATE UNIQUE INDEX "UserSession_tokenHash_key" ON "UserSession"("tokenHash");

-- CreateIndex
CREATE INDEX "UserSession_userId_idx" ON "UserSession"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "JoinToken_tokenHash_key" ON "JoinToken"("tokenHash");

-- CreateIndex
CREATE UNIQUE INDEX "TrafficPolicy_serviceName_key" ON "TrafficPolicy"("serviceName");

-- CreateIndex
CREATE UNIQUE INDEX "ResiliencePolicy_serviceName_key" ON "ResiliencePolicy"("serviceName");

-- CreateIndex
CREATE INDEX "ConfigRevision_serviceName_id_idx" ON "ConfigRevision"("serviceName", "id");

-- CreateIndex
CREATE INDEX "ConfigRevision_part_serviceName_id_idx" ON "ConfigRevision"("part", "serviceName", "id");

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
CREATE UNIQUE INDEX "MetricRollup_resolutionSeconds_bucketStart_source_sourceVer_key" ON "MetricRollup"("resolutionSeconds", "bucketStart", "source", "sourceVersion", "destination", "destinationVersion");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

-- CreateIndex
CREATE INDEX "AuditEvent_actor_at_idx" ON "AuditEvent"("actor", "at");

-- CreateIndex
CREATE INDEX "AuditEvent_action_at_idx" ON "AuditEvent"("action", "at");

-- AddForeignKey
ALTER TABLE "Subset" ADD CONSTRAINT "Subset_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Instance" ADD CONSTRAINT "Instance_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Instance" ADD CONSTRAINT "Instance_subsetId_fkey" FOREIGN KEY ("subsetId") REFERENCES "Subset"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MtlsPolicy" ADD CONSTRAINT "MtlsPolicy_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AuthorizationPolicy" ADD CONSTRAINT "AuthorizationPolicy_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UserSession" ADD CONSTRAINT "UserSession_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

