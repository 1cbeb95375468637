-- Idle timeout for streams (issue 10): a response body or tunnel that moves nothing for this long is cut (NULL = none).
-- AlterTable
ALTER TABLE "ResiliencePolicy" ADD COLUMN "idleTimeoutMs" INTEGER;
