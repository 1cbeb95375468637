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

test("a fresh npm start: every mesh edge on the graph carries the mTLS lock within a minute", async ({ page }) => {
  // No mTLS setting was made: the mesh default (PERMISSIVE) and automatic mTLS put every call between meshed services
  // on mTLS. Traffic from outside the mesh (ingress → web) is plaintext and has no lock.
  await page.goto("/");
  await expect(page.getByTestId("service-graph")).toHaveAttribute("data-ready", "true");
  const meshEdges = async () =>
    page.evaluate(() =>
      (window.__trellisGraph?.edges() ?? [])
        .filter((e) => Number(e.rps) > 0 && !String(e.id).startsWith("e:ingress@"))
        .map((e) => ({ id: String(e.id), locked: String(e.label ?? "").includes("🔒") })),
    );
  await expect
    .poll(
      async () => {
        const edges = await meshEdges();
        return edges.length >= 5 && edges.every((e) => e.locked) ? "all locked" : JSON.stringify(edges.filter((e) => !e.locked).map((e) => e.id));
      },
      { timeout: 60_000, intervals: [1_000] },
    )
    .toBe("all locked");
});
