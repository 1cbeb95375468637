/** Calls denied by authorization, per (destination service, caller identity): a telemetry window and cumulative totals. */
export class DenialCounter {
  private window = new Map<string, { destination: string; principal: string; count: number }>();
  readonly totals = new Map<string, { destination: string; principal: string; count: number }>();
  private distinct = 0;

  count(destination: string, principal: string): void {
    const key = `${destination}\u0000${principal}`;
    let w = this.window.get(key);
    if (w === undefined) {
      w = { destination, principal, count: 0 };
      this.window.set(key, w);
    }
    w.count++;
    let t = this.totals.get(key);
    if (t === undefined) {
      // Bounded: callers are few, but an attacker could present many identities.
      if (this.distinct >= 256) return;
      this.distinct++;
      t = { destination, principal, count: 0 };
      this.totals.set(key, t);
    }
    t.count++;
  }

  drain(): { destination: string; principal: string; count: number }[] {
    if (this.window.size === 0) return [];
    const out = [...this.window.values()].slice(0, 1000);
    this.window = new Map();
    return out;
  }
}
