/** URLs of the traces page for a filter (shared by the graph's edge panel, the service and edge pages). */
export interface TraceFilter {
  service?: string;
  peer?: string;
  errorsOnly?: boolean;
  minDurationMs?: number;
  sinceSeconds?: number;
  sort?: "recent" | "slowest";
}

export function tracesHref(f: TraceFilter): string {
  const q = new URLSearchParams();
  if (f.service) q.set("service", f.service);
  if (f.peer) q.set("peer", f.peer);
  if (f.errorsOnly) q.set("errors", "1");
  if (f.minDurationMs) q.set("minMs", String(f.minDurationMs));
  if (f.sinceSeconds) q.set("since", String(f.sinceSeconds));
  if (f.sort && f.sort !== "recent") q.set("sort", f.sort);
  const s = q.toString();
  return s ? `/traces?${s}` : "/traces";
}

export function parseTraceFilter(q: {
  get(name: string): string | null;
}): Required<Pick<TraceFilter, "errorsOnly" | "sinceSeconds" | "sort">> & TraceFilter {
  const num = (v: string | null) => (v !== null && v !== "" && Number.isFinite(Number(v)) ? Number(v) : undefined);
  const sort = q.get("sort") === "slowest" ? "slowest" : "recent";
  return {
    service: q.get("service") || undefined,
    peer: q.get("peer") || undefined,
    errorsOnly: q.get("errors") === "1",
    minDurationMs: num(q.get("minMs")),
    sinceSeconds: num(q.get("since")) ?? 3600,
    sort,
  };
}

export function edgeHref(source: string, destination: string): string {
  return `/edges/${encodeURIComponent(source)}/${encodeURIComponent(destination)}`;
}
