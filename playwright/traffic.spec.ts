/**
 * The payments canary from the console, against the real console and demo shop (`npm start`, seeded with a 90/10
 * split): dragging the v2 slider to 25% is applied by every agent within 2 s, the graph's web → payments edges move
 * to about 25% / 75% within 10 s, and rolling the revision back restores 90/10.
 */
import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures.ts";
import { startMeshTraffic } from "./shop.ts";

async function paymentsShares(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const out: Record<string, number> = {};
    for (const e of window.__trellisGraph?.edges() ?? []) {
      const m = /^e:web@v1->payments@(v\d+)$/.exec(String(e.id));
      if (m) out[m[1]] = Number(e.sharePct);
    }
    return out;
  });
}

test("drag payments v2 to 25%: applied within 2 s, graph shares follow within 10 s, rollback restores 90/10", async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto("/services/payments");
  const panel = page.getByTestId("traffic-panel");
  await expect(panel).toBeVisible({ timeout: 45_000 });
  const v1 = page.getByTestId("split-slider-v1");
  const v2 = page.getByTestId("split-slider-v2");
  // The demo's seed: the canary gets 10%.
  await expect(v2).toHaveValue("10", { timeout: 30_000 });
  await expect(v1).toHaveValue("90");
  const sync = page.getByTestId("split-sync");
  const revisionBefore = await sync.getAttribute("data-revision");

  // Drag the v2 thumb towards 25% (then settle exactly on 25 with the keyboard, as a user would).
  await v2.scrollIntoViewIfNeeded();
  const box = (await v2.boundingBox())!;
  const xAt = (pct: number) => box.x + 8 + ((box.width - 16) * pct) / 100;
  await page.mouse.move(xAt(10), box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(xAt(18), box.y + box.height / 2, { steps: 4 });
  await page.mouse.move(xAt(25), box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  const dragged = Number(await v2.inputValue());
  expect(dragged).toBeGreaterThan(10); // the drag moved it
  for (let i = 0; i < Math.abs(25 - dragged); i++) await v2.press(dragged < 25 ? "ArrowRight" : "ArrowLeft");
  await expect(v2).toHaveValue("25");
  await expect(v1).toHaveValue("75"); // the other slider rebalanced: always 100 in all
  // Calls web → payments through web's own agent (as the web app does), so the share is measured on enough calls.
  const traffic = startMeshTraffic({ service: "payments", path: "/healthz", rps: 40 });
  try {
    // "applied" for the NEW revision within 2 s of letting go.
    await expect
      .poll(async () => (await sync.getAttribute("data-revision")) !== revisionBefore && (await sync.getAttribute("data-state")) === "applied", {
        timeout: 2_000,
        intervals: [100],
      })
      .toBe(true);
    await expect(sync).toContainText(/applied on (\d+)\/\1 instances/);
    const weights = await page.getByTestId("split-sliders").getAttribute("data-split");
    expect(weights).toBe("v1=75,v2=25");

    // The graph: web → payments@v2 carries about a quarter of the calls within 10 s.
    await page.getByTestId("nav-graph").click();
    await expect(page.getByTestId("service-graph")).toHaveAttribute("data-ready", "true");
    await expect.poll(async () => (await paymentsShares(page)).v2 ?? 0, { timeout: 10_000, intervals: [250] }).toBeGreaterThanOrEqual(18);
    const shares = await paymentsShares(page);
    expect(shares.v2).toBeLessThanOrEqual(32);
    expect(shares.v1).toBeGreaterThanOrEqual(68);
    const label = await page.evaluate(() => String(window.__trellisGraph!.edges().find((e) => e.id === "e:web@v1->payments@v2")?.label ?? ""));
    expect(label).toMatch(/% split$/);
  } finally {
    traffic.stop();
  }

  // History: the change is there with its diff; one click rolls it back (as a new revision).
  await page.getByTestId("nav-history").click();
  const table = page.getByTestId("revisions-table");
  await expect(table).toBeVisible();
  const newest = table.locator("tbody tr").first();
  await expect(newest).toHaveAttribute("data-kind", "split");
  await expect(newest).toContainText("split v2: 10% → 25%");
  const id = (await newest.getAttribute("data-testid"))!.replace("revision-row-", "");
  await page.getByTestId(`rollback-${id}`).click();
  await expect(table.locator("tbody tr").first()).toHaveAttribute("data-kind", "rollback");
  await expect(table.locator("tbody tr").first()).toContainText("split v2: 25% → 10%");

  await page.goto("/services/payments");
  await expect(page.getByTestId("split-slider-v2")).toHaveValue("10");
  await expect(page.getByTestId("split-slider-v1")).toHaveValue("90");
  await expect(page.getByTestId("split-sync")).toHaveAttribute("data-state", "applied", { timeout: 5_000 });
});
