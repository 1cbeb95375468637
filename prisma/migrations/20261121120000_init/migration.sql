-- CreateTable
CREATE TABLE "Service" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Subset" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "serviceId" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Subset_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Instance" (
    "id" TEXT NOT NULL PRIMARY KEY,
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
    "firstSeen" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeen" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ackedVersion" INTEGER NOT NULL DEFAULT 0,
    "sentVersion" INTEGER NOT NULL DEFAULT 0,
    "syncState" TEXT NOT NULL DEFAULT 'UNKNOWN',
    "syncError" TEXT,
    "syncedAt" DATETIME,
    CONSTRAINT "Instance_serviceId_fkey" FOREIGN KEY ("serviceId") REFERENCES "Service" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Instance_subsetId_fkey" FOREIGN KEY ("subsetId") REFERENCES "Subset" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "MeshState" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "configVersion" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" DATETIME NOT NULL
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

