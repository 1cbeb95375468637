/**
 * After a console restart, instances that were connected and seen within the grace stay endpoints until they
 * reconnect or the grace passes, so the first agents back do not get a snapshot missing everyone else.
 */
import type { EndpointRow } from "../repositories/index.ts";

export class RestartGrace {
  private readonly kept = new Map<string, EndpointRow & { expiresAt: number }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly graceMs: number,
    /** Called when kept endpoints expired (a round must withdraw them). */
    private readonly onExpired: (count: number) => void,
  ) {}

  get size(): number {
    return this.kept.size;
  }

  /** Keeps the instances recovered at start (their grace runs from when they were last seen). */
  keep(rows: EndpointRow[]): void {
    for (const row of rows) this.kept.set(row.instanceId, { ...row, expiresAt: row.lastSeen.getTime() + this.graceMs });
    this.arm();
  }

  /** The instance reconnected: it is an endpoint in its own right again. */
  drop(instanceId: string): void {
    this.kept.delete(instanceId);
  }

  /** The connected endpoints plus the kept ones not yet back; forgets those whose grace passed. */
  endpoints(connected: EndpointRow[], now: number): EndpointRow[] {
    const out = [...connected];
    const live = new Set(connected.map((e) => e.instanceId));
    for (const [id, g] of this.kept) {
      if (g.expiresAt <= now) this.kept.delete(id);
      else if (!live.has(id)) out.push(g);
    }
    return out;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    this.stop();
    if (this.kept.size === 0) return;
    const soonest = Math.min(...[...this.kept.values()].map((g) => g.expiresAt));
    this.timer = setTimeout(
      () => {
        const now = Date.now();
        let expired = 0;
        for (const [id, g] of this.kept) {
          if (g.expiresAt <= now) {
            this.kept.delete(id);
            expired++;
          }
        }
        if (expired > 0) this.onExpired(expired);
        this.arm();
      },
      Math.max(0, soonest - Date.now()) + 10,
    );
  }
}
