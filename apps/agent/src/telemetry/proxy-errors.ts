/** Cumulative count of proxy-made errors per listener and `x-trellis-error` kind (for /metrics). */
export class ProxyErrorCounter {
  readonly counts = new Map<string, { listener: string; kind: string; n: number }>();

  count(listener: string, kind: string): void {
    const key = `${listener}\u0000${kind}`;
    const c = this.counts.get(key);
    if (c !== undefined) c.n++;
    else this.counts.set(key, { listener, kind, n: 1 });
  }
}
