/** Authorization denials reported by agents (telemetry `denials`), per service and caller identity, since console start. */
export interface DenialRow {
  principal: string;
  count: number;
  lastAt: string;
}

export class DenialStore {
  private readonly byService = new Map<string, Map<string, { count: number; lastAt: number }>>();

  ingest(denials: { destination: string; principal: string; count: number }[], now = Date.now()): void {
    for (const d of denials) {
      let m = this.byService.get(d.destination);
      if (!m) {
        m = new Map();
        this.byService.set(d.destination, m);
      }
      let row = m.get(d.principal);
      if (!row) {
        if (m.size >= 256) continue;
        row = { count: 0, lastAt: now };
        m.set(d.principal, row);
      }
      row.count += d.count;
      row.lastAt = now;
    }
  }

  forService(service: string): { total: number; callers: DenialRow[] } {
    const m = this.byService.get(service);
    if (!m) return { total: 0, callers: [] };
    const callers = [...m.entries()]
      .map(([principal, r]) => ({ principal, count: r.count, lastAt: new Date(r.lastAt).toISOString() }))
      .sort((a, b) => b.count - a.count);
    return { total: callers.reduce((s, c) => s + c.count, 0), callers };
  }
}
