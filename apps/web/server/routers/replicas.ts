import { router, viewerProcedure } from "../trpc.ts";

export const replicasRouter = router({
  /**
   * The console replicas sharing the database (one on SQLite): heartbeat, agents each holds, the leases of run-once
   * work and who holds them, and what this replica's telemetry share sent and received.
   */
  list: viewerProcedure.query(async ({ ctx }) => {
    const { replication } = ctx;
    const now = Date.now();
    const ttlMs = replication.presence.options.ttlMs;
    const [rows, leases, agents] = await Promise.all([ctx.repos.replicas.list(), ctx.repos.leases.list(), ctx.repos.instances.connectedByReplica()]);
    return {
      self: replication.id,
      shared: replication.bus.shared,
      replicas: rows.map((r) => ({
        id: r.id,
        url: r.url,
        startedAt: r.startedAt.toISOString(),
        heartbeatAt: r.heartbeatAt.toISOString(),
        alive: now - r.heartbeatAt.getTime() <= ttlMs,
        agents: agents.get(r.id) ?? 0,
      })),
      leases: leases.map((l) => ({
        name: l.name,
        holder: l.holder,
        expiresAt: new Date(l.expiresAt).toISOString(),
        acquiredAt: new Date(l.acquiredAt).toISOString(),
        expired: l.expiresAt <= now,
      })),
      bus: replication.bus.stats,
      telemetryShare: replication.telemetry.stats,
    };
  }),
});
