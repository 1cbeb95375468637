-- Scoped join tokens (issue 13): the services a token may register (JSON array of names or glob patterns; NULL = any
-- service, as every token was before), and which agent used it last.
-- AlterTable
ALTER TABLE "JoinToken" ADD COLUMN "scope" TEXT;
ALTER TABLE "JoinToken" ADD COLUMN "lastUsedBy" TEXT;
