/**
 * Progressive delivery on the service page, against the real console and demo shop (`npm start`), in real chromium:
 * - a healthy new version (reviews v2, deployed by the test as one more shop instance) started as a canary from the
 *   form walks 5 → 10 → 25 → 50 and is promoted to 100% on its own;
 * - payments v2 (the shop's canary: ~4% of charges fail) is rolled back on its own with the default thresholds;
 * both rollouts show every step in the config history as revisions by "canary <service>", with the figures.
 * Only the interval (and, for the low-traffic reviews, the minimum requests) are set short in the form; the rest of
 * the rollout is the console's own. Each test puts a known load on the service through web's agent and leaves the
 * shop's split as it found it.
 */
import type { APIRequestContext, Page } from "@playwright/test";
import { startShopService } from "@trellis/testkit";
import { expect, test, trpcMutate, trpcQuery } from "./fixtures.ts";
import { consoleForAgents, startMeshTraffic } from "./shop.ts";

interface Revision {
  id: number;
  actor: string;
  kind: string;
  summary: string;
}

/** Fills the "Start canary" form (baseline, canary, interval, …: only what is given) and starts the rollout. */
async function startCanary(
  page: Page,
  o: { baseline: string; canary: string; intervalSeconds: number; minRequests?: number; maxP99Ms?: number },
): Promise<void> {
  const form = page.getByTestId("canary-start-form");
  await expect(form).toBeVisible({ timeout: 30_000 });
  // The defaults are filled in: 5 → 10 → 25 → 50 → 100, ≥ 99%, p99 ≤ 500 ms, 2 failed checks.
  await expect(page.getByTestId("canary-steps")).toHaveValue("5, 10, 25, 50, 100");
  await expect(page.getByTestId("canary-min-success")).toHaveValue("99");
  await expect(page.getByTestId("canary-max-p99")).toHaveValue("500");
  await expect(page.getByTestId("canary-failure-threshold")).toHaveValue("2");
  await page.getByTestId("canary-baseline").selectOption(o.baseline);
  await page.getByTestId("canary-canary").selectOption(o.canary);
  await page.getByTestId("canary-interval").fill(String(o.intervalSeconds));
  if (o.minRequests !== undefined) await page.getByTestId("canary-min-requests").fill(String(o.minRequests));
  if (o.maxP99Ms !== undefined) await page.getByTestId("canary-max-p99").fill(String(o.maxP99Ms));
  await page.getByTestId("canary-start").click();
  // Progressing from the first step (5%: the history's canary-start revision says so; on a slow machine the first
  // check may already have moved it on by the time the page is read).
  await expect(page.getByTestId("canary-panel")).toHaveAttribute("data-phase", "progressing");
}

/** Leaves no rollout running behind a failed test (abort sends every call back to the baseline). */
async function abortIfRunning(request: APIRequestContext, service: string): Promise<void> {
  const { rollout } = await trpcQuery<{ rollout: { phase: string } | null }>(request, "canary.get", { service });
  if (rollout && (rollout.phase === "progressing" || rollout.phase === "paused")) await trpcMutate(request, "canary.abort", { service });
}

/** The service's revisions written by its canary, oldest first. */
async function canaryRevisions(request: APIRequestContext, service: string): Promise<Revision[]> {
  const list = await trpcQuery<Revision[]>(request, "revisions.list", { service, limit: 200 });
  return list.filter((r) => r.actor === `canary ${service}`).reverse();
}

/** The history page lists each of the rollout's revisions with its kind and reason. */
async function expectInHistory(page: Page, service: string, revisions: Revision[]): Promise<void> {
  await page.goto(`/history?service=${service}`);
  const table = page.getByTestId("revisions-table");
  await expect(table).toBeVisible();
  for (const r of revisions) {
    const row = page.getByTestId(`revision-row-${r.id}`);
    await expect(row).toHaveAttribute("data-kind", r.kind);
    await expect(row).toContainText(`canary ${service}`);
    await expect(row).toContainText(r.summary.slice(0, 40));
  }
}

test("a healthy new version (reviews v2) promotes to 100% on its own, every step in the history", async ({ page, request, baseURL }) => {
  // Generous: on a loaded 2-core machine each browser step can take seconds.
  test.setTimeout(480_000);
  const v2 = await startShopService(consoleForAgents(baseURL!), "reviews", "v2");
  const traffic = startMeshTraffic({ service: "reviews", path: "/reviews?productId=p1", rps: 40 });
  try {
    await page.goto("/services/reviews");
    await expect(page.getByTestId("version-v2")).toContainText("1/1 connected", { timeout: 30_000 });
    // reviews gets few calls of its own (the test adds 40 a second): a smaller minimum per step. The p99 bound is looser
    // than the default because on a busy shared test machine both versions' p99 come near 500 ms (the baseline's as
    // well); the rollback on thresholds is the payments test's, with the defaults.
    await startCanary(page, { baseline: "v1", canary: "v2", intervalSeconds: 8, minRequests: 10, maxP99Ms: 2000 });
    const panel = page.getByTestId("canary-panel");
    // The analysis runs live: the window under way shows canary requests before the first check.
    await expect
      .poll(async () => Number(await page.getByTestId("canary-current").getAttribute("data-canary-requests")), { timeout: 20_000 })
      .toBeGreaterThan(0);
    await expect(panel).toHaveAttribute("data-phase", "promoted", { timeout: 180_000 });
    await expect(page.getByTestId("canary-phase")).toHaveText("promoted");
    const passes = page.locator('[data-testid="canary-check"][data-verdict="pass"]');
    await expect(passes).toHaveCount(4);
    expect(await passes.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-weight")))).toEqual(["5", "10", "25", "50"]);
    // Both charts have a point per window and the threshold drawn.
    for (const kind of ["success", "p99"]) {
      const chart = page.getByTestId(`canary-chart-${kind}`);
      await expect(chart.locator(".recharts-reference-line")).toHaveCount(1);
      expect(Number(await chart.getAttribute("data-points"))).toBeGreaterThanOrEqual(4);
    }
    await expect(page.getByTestId("canary-chart-success")).toHaveAttribute("data-threshold", "99");
    await expect(page.getByTestId("canary-chart-p99")).toHaveAttribute("data-threshold", "2000");
    // The traffic panel shows the result: v2 takes every call.
    await expect(page.getByTestId("split-sliders")).toHaveAttribute("data-split", "v1=0,v2=100");

    const revisions = await canaryRevisions(request, "reviews");
    expect(revisions.map((r) => r.kind)).toEqual(["canary-start", "canary-step", "canary-step", "canary-step", "canary-promote"]);
    expect(revisions[0].summary).toMatch(/^canary v2 started by admin at 5% against v1 \(split no split \(all versions\) → v1 95% \/ v2 5%\)$/);
    expect(revisions[1].summary).toMatch(/^canary v2 → 10%: check passed at 5% — success 100% \(baseline [\d.]+%\), p99 [\d.]+ ms/);
    await expectInHistory(page, "reviews", revisions);
  } finally {
    traffic.stop();
    await abortIfRunning(request, "reviews");
    // Leave the shop as it was: reviews balanced over its instances again, then the extra instance gone.
    await trpcMutate(request, "traffic.setSplit", { service: "reviews", split: null });
    await v2.stop();
  }
});

test("payments v2 (4% of charges fail) rolls back on its own with the default thresholds, every step in the history", async ({ page, request }) => {
  test.setTimeout(480_000);
  let n = 0;
  // Real charges (v2 fails ~4% of them with 503); the shop's own checkouts go on beside them.
  const traffic = startMeshTraffic({
    service: "payments",
    path: "/charge",
    method: "POST",
    rps: 40,
    body: () => ({ amountCents: 1999, currency: "EUR", card: "4242424242424242", idempotencyKey: `canary-spec-${Date.now()}-${n++}` }),
  });
  try {
    await page.goto("/services/payments");
    await startCanary(page, { baseline: "v1", canary: "v2", intervalSeconds: 10 });
    const panel = page.getByTestId("canary-panel");
    await expect(panel).toHaveAttribute("data-phase", "rolled-back", { timeout: 180_000 });
    await expect(page.getByTestId("canary-phase")).toHaveText("rolled back");
    const fails = page.locator('[data-testid="canary-check"][data-verdict="fail"]');
    await expect(fails).toHaveCount(2);
    await expect(fails.last()).toHaveAttribute("data-action", "rollback");
    await expect(page.getByTestId("canary-message")).toContainText(/rolled back to v1: 2\/2 failed checks \(success rate [\d.]+% < 99%\)/);
    await expect(page.getByTestId("split-sliders")).toHaveAttribute("data-split", "v1=100,v2=0");

    const revisions = await canaryRevisions(request, "payments");
    expect(revisions[0].kind).toBe("canary-start");
    expect(revisions[0].summary).toMatch(/^canary v2 started by admin at 5% against v1 \(split v1 90% \/ v2 10% → v1 95% \/ v2 5%\)$/);
    expect(revisions.at(-1)?.kind).toBe("canary-rollback");
    expect(revisions.slice(1, -1).every((r) => r.kind === "canary-step")).toBe(true);
    expect(revisions.at(-1)?.summary).toMatch(/success [\d.]+% \(baseline [\d.]+%\), p99 [\d.]+ ms \(baseline [\d.]+ ms\)/);
    await expectInHistory(page, "payments", revisions);
    // The shop saw the failures the console acted on.
    expect(traffic.statuses.get(503) ?? 0).toBeGreaterThan(0);
  } finally {
    traffic.stop();
    await abortIfRunning(request, "payments");
    // Back to the demo's seed (90/10) for the specs that start from it.
    await trpcMutate(request, "traffic.setSplit", {
      service: "payments",
      split: [
        { version: "v1", weight: 90 },
        { version: "v2", weight: 10 },
      ],
    });
  }
});
