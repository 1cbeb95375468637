/**
 * Canary rollouts as the console runs them: start (operator), pause / resume / abort (operator), `tick` (the runner,
 * every second) and the view for the service page. Every transition is the pure state machine's (machine.ts); its
 * action becomes a split on the one change road (a revision by "canary <service>" with the reason and figures) and
 * the rollout's row is updated after it, so a console restarted at any point resumes from the database. Operations
 * run one at a time (a tick never interleaves with a pause or an abort).
 */
import { SETTLE_SECONDS } from "../../shared/edge-stats.ts";
import type { ChangeResult, ConfigChanges } from "../changes/index.ts";
import { issuesText } from "../changes/kind.ts";
import { versionsOf } from "../changes/kinds/traffic.ts";
import { conflict, invalidConfig, invalidInput, notFound } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { CanaryCheckRow, CanaryRow, Repositories } from "../repositories/index.ts";
import type { TelemetryStore } from "../telemetry-store.ts";
import { type Analysis, analyse } from "./analysis.ts";
import { type CanaryEvent, type CanaryState, isActive, next, start, type Transition, weightOf } from "./machine.ts";
import { canaryActor, reasonOf, revisionKind, splitOf } from "./plan.ts";
import { type CanarySettingsInput, canarySettingsSchema } from "./settings.ts";
import { versionTotals } from "./telemetry.ts";

/** The longest stretch a verdict reads (insufficient data makes it grow): within the store's fine tier. */
const MAX_DATA_SECONDS = 300;

export interface CanaryDeps {
  repos: Repositories;
  changes: Pick<ConfigChanges, "canarySplit">;
  store: TelemetryStore;
  log: Logger;
  now?: () => number;
}

export interface CanaryView {
  rollout: CanaryRow | null;
  weight: number | null;
  checks: CanaryCheckRow[];
  /** The analysis of the window under way (figures so far), while the rollout is active. */
  current: (Analysis & { fromSec: number; toSec: number; dueAt: number }) | null;
}

const stateOf = (r: CanaryRow): CanaryState => ({ phase: r.phase, stepIndex: r.stepIndex, failedChecks: r.failedChecks });

export class Canaries {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly deps: CanaryDeps) {
    this.now = deps.now ?? Date.now;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  start(input: { service: string; baseline: string; canary: string; settings?: CanarySettingsInput }, by: string): Promise<CanaryRow> {
    return this.serial(async () => {
      const parsed = canarySettingsSchema.safeParse(input.settings ?? {});
      if (!parsed.success) throw invalidConfig(issuesText(parsed.error.issues.map((i) => ({ ...i, path: ["settings", ...i.path] }))));
      const versions = await versionsOf(this.deps.repos, input.service);
      for (const k of ["baseline", "canary"] as const)
        if (!versions.includes(input[k])) throw invalidInput(`${k}: unknown version ${input[k]} of ${input.service}`);
      if (input.baseline === input.canary) throw invalidInput("canary: must differ from the baseline");
      const running = await this.deps.repos.canaries.latest(input.service);
      if (running && isActive(running.phase)) throw conflict(`${input.service}: canary ${running.canary} is already ${running.phase}`);
      const now = new Date(this.now());
      const first = start(parsed.data);
      const row = await this.deps.repos.canaries.create({
        ...input,
        settings: parsed.data,
        phase: first.state.phase,
        stepIndex: 0,
        windowStart: now,
        dataFrom: now,
        message: "",
        startedBy: by,
      });
      const reason = reasonOf(row.settings, row, first.state, first.state, first.action, { by, event: "start" });
      try {
        return await this.apply(row, { ok: true, ...first }, "start", reason);
      } catch (err) {
        await this.deps.repos.canaries.update(row.id, { phase: "aborted", message: `not started: ${(err as Error).message}`, finishedAt: now });
        throw err;
      }
    });
  }

  /** pause / resume / abort by hand (CONSOLE_CONFLICT when the rollout's phase does not allow it). */
  command(service: string, event: "pause" | "resume" | "abort", by: string): Promise<CanaryRow> {
    return this.serial(async () => {
      const row = await this.deps.repos.canaries.latest(service);
      if (!row || !isActive(row.phase)) throw notFound(`service: no canary is running on ${service}`);
      const t = next(row.settings, stateOf(row), { type: event });
      if (!t.ok) throw conflict(`${service}: ${t.reason}`);
      return this.apply(row, t, { type: event }, reasonOf(row.settings, row, stateOf(row), t.state, t.action, { by, event }));
    });
  }

  /** One round of the runner: checks every progressing rollout whose interval is over. */
  tick(): Promise<number> {
    return this.serial(async () => {
      let checked = 0;
      for (const row of await this.deps.repos.canaries.active()) {
        if (row.phase !== "progressing") continue;
        const w = this.window(row);
        if (w.settledSec < w.endSec) continue;
        try {
          await this.check(row, w.fromSec, w.endSec);
          checked++;
        } catch (err) {
          this.deps.log.error("canary check failed", { service: row.service, rollout: row.id, error: (err as Error).message });
        }
      }
      return checked;
    });
  }

  /** The seconds the next verdict reads and when it is due. */
  private window(row: CanaryRow) {
    const startSec = Math.ceil(row.windowStart.getTime() / 1000);
    const endSec = startSec + row.settings.intervalSeconds - 1;
    const settledSec = Math.floor(this.now() / 1000) - SETTLE_SECONDS;
    const fromSec = Math.max(Math.ceil(row.dataFrom.getTime() / 1000), endSec - MAX_DATA_SECONDS + 1);
    return { fromSec, endSec, settledSec };
  }

  private analysisOf(row: CanaryRow, fromSec: number, toSec: number): Analysis {
    const totals = versionTotals(this.deps.store, row.service, [row.canary, row.baseline], fromSec, toSec);
    return analyse(row.settings, totals.get(row.canary)!, totals.get(row.baseline)!);
  }

  private async check(row: CanaryRow, fromSec: number, toSec: number): Promise<void> {
    const a = this.analysisOf(row, fromSec, toSec);
    const before = stateOf(row);
    const t = next(row.settings, before, { type: "check", verdict: a.verdict });
    if (!t.ok) return;
    const reason = reasonOf(row.settings, row, before, t.state, t.action, { check: a });
    await this.apply(row, t, { type: "check", verdict: a.verdict }, reason, {
      windowStart: new Date(fromSec * 1000),
      windowEnd: new Date((toSec + 1) * 1000),
      stepIndex: before.stepIndex,
      weight: weightOf(row.settings, before),
      verdict: a.verdict,
      reasons: a.reasons.join("; "),
      canaryRequests: a.canary.requests,
      canarySuccessPct: a.canary.successRatePct,
      canaryP99Ms: a.canary.p99Ms,
      baselineRequests: a.baseline.requests,
      baselineSuccessPct: a.baseline.successRatePct,
      baselineP99Ms: a.baseline.p99Ms,
    });
  }

  /** Carries out a transition: the split on the change road (if any), then the rollout's row, then the check. */
  private async apply(
    row: CanaryRow,
    t: Extract<Transition, { ok: true }>,
    event: CanaryEvent | "start",
    reason: string,
    check?: Omit<CanaryCheckRow, "id" | "at" | "rolloutId" | "action" | "revisionId">,
  ): Promise<CanaryRow> {
    const split = splitOf(t.action, row);
    let change: ChangeResult | null = null;
    if (split) change = await this.deps.changes.canarySplit(row.service, split, canaryActor(row.service), revisionKind(t.action, event), reason);
    const now = new Date(this.now());
    const insufficient = event !== "start" && event.type === "check" && event.verdict === "insufficient-data";
    const updated = await this.deps.repos.canaries.update(row.id, {
      phase: t.state.phase,
      stepIndex: t.state.stepIndex,
      failedChecks: t.state.failedChecks,
      // A check opens the next interval; a verdict (not "insufficient data") also starts the next verdict's data.
      windowStart: event === "start" || event.type !== "pause" ? now : row.windowStart,
      dataFrom: insufficient || (event !== "start" && event.type === "pause") ? row.dataFrom : now,
      message: reason,
      finishedAt: isActive(t.state.phase) ? null : now,
    });
    if (check) await this.deps.repos.canaries.addCheck(row.id, { ...check, action: t.action.type, revisionId: change?.revision?.id ?? null });
    this.deps.log.info("canary", { service: row.service, rollout: row.id, phase: t.state.phase, action: t.action.type, reason });
    return updated;
  }

  /** The service's newest rollout, its checks and (while active) the figures of the window under way. */
  async view(service: string): Promise<CanaryView> {
    const rollout = await this.deps.repos.canaries.latest(service);
    if (!rollout) return { rollout: null, weight: null, checks: [], current: null };
    const checks = await this.deps.repos.canaries.checks(rollout.id);
    let current: CanaryView["current"] = null;
    if (rollout.phase === "progressing") {
      const w = this.window(rollout);
      const toSec = Math.min(w.settledSec, w.endSec);
      current = { ...this.analysisOf(rollout, w.fromSec, toSec), fromSec: w.fromSec, toSec, dueAt: (w.endSec + 1 + SETTLE_SECONDS) * 1000 };
    }
    return { rollout, weight: weightOf(rollout.settings, stateOf(rollout)), checks, current };
  }
}
