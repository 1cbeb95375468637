/**
 * The console's live service graph against the real console and the real demo shop (started by `npm start`):
 * the shop's services appear as nodes and their calls as edges carrying non-zero request rates, updated live.
 */
import { expect, test } from "./fixtures.ts";

const SHOP_SERVICES = ["web", "catalog", "cart", "inventory", "payments"];

test("the graph shows the shop's services and live edges with non-zero rps", async ({ page }) => {
  await page.goto("/");
  const graph = page.getByTestId("service-graph");
  await expect(graph).toBeVisible();
  await expect(graph).toHaveAttribute("data-ready", "true");

  // Every shop service is a node (its versions are child nodes inside it).
  await expect
    .poll(async () => page.evaluate(() => (window.__trellisGraph?.nodes() ?? []).map((n) => String(n.service))), {
      timeout: 45_000,
    })
    .toEqual(expect.arrayContaining(SHOP_SERVICES));

  // Calls between them are edges with traffic (edge ids are `e:<source>@<v>-><destination>@<v>`):
  // storefront -> catalog and checkout -> payments at least.
  const busyEdges = async () =>
    page.evaluate(() =>
      (window.__trellisGraph?.edges() ?? [])
        .filter((e) => Number(e.rps) > 0)
        .map((e) =>
          String(e.id)
            .replace(/^e:/, "")
            .replace(/@[^-]*->/, "->")
            .replace(/@.*$/, ""),
        ),
    );
  await expect.poll(busyEdges, { timeout: 45_000 }).toEqual(expect.arrayContaining(["web->catalog", "web->payments"]));

  // The view is live: frames keep arriving without re-running the layout each time.
  const before = await page.evaluate(() => ({ frames: window.__trellisGraph!.frames, layouts: window.__trellisGraph!.layouts }));
  await expect.poll(async () => page.evaluate(() => window.__trellisGraph!.frames), { timeout: 10_000 }).toBeGreaterThan(before.frames + 2);
  const after = await page.evaluate(() => window.__trellisGraph!.layouts);
  expect(after - before.layouts).toBeLessThanOrEqual(1);

  // Edge labels carry rps · p99 · error %.
  const label = await page.evaluate(() => String(window.__trellisGraph!.edge("web", "catalog")?.label ?? ""));
  expect(label).toMatch(/rps · .+ · .+%/);
});
