/**
 * Writes audit events. The actor and client address come from the call, else from the request being served
 * (request-actor.ts), else "system". Recording never fails the action it records: a write error is logged.
 */
import type { Logger } from "../log.ts";
import type { AuditInput, Repositories } from "../repositories/index.ts";
import { currentRequestActor } from "./request-actor.ts";

export type AuditRecord = Omit<AuditInput, "actorKind" | "actor" | "clientAddress"> &
  Partial<Pick<AuditInput, "actorKind" | "actor" | "clientAddress">>;

export class AuditLog {
  constructor(
    private readonly repos: Pick<Repositories, "audit">,
    private readonly log: Logger,
  ) {}

  async record(e: AuditRecord): Promise<void> {
    const ctx = currentRequestActor();
    const actor = e.actor ?? ctx?.actor ?? "system";
    const actorKind = e.actorKind ?? (ctx !== undefined && ctx.actor === actor ? ctx.actorKind : actor === "system" ? "system" : "user");
    const event: AuditInput = { ...e, actor, actorKind, clientAddress: e.clientAddress ?? ctx?.clientAddress ?? null };
    try {
      await this.repos.audit.add(event);
    } catch (err) {
      this.log.error("audit event not recorded", { action: e.action, actor, outcome: e.outcome, error: (err as Error).message });
    }
  }
}
