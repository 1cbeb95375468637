/**
 * The services overview against the real console and the real demo shop: every shop service is listed with live
 * inbound traffic and an rps trend, sorting by a column reorders the rows, and a row links to the service page.
 */
import { expect, test } from "./fixtures.ts";

// Services that receive calls in the shop (web is called from outside the mesh: ingress).
const SHOP_SERVICES = ["web", "catalog", "cart", "inventory", "payments"];

test("services overview: every shop service with traffic, sortable, linked to its page", async ({ page }) => {
  await page.goto("/");
  await page.getByTestId("nav-services").click();
  await expect(page).toHaveURL(/\/services$/);
  const table = page.getByTestId("services-table");
  await expect(table).toBeVisible({ timeout: 45_000 });

  // Every shop service is a row with non-zero inbound rps and a trend that has seen traffic.
  for (const name of SHOP_SERVICES) {
    const row = page.getByTestId(`service-row-${name}`);
    await expect(row).toBeVisible({ timeout: 45_000 });
    await expect.poll(async () => Number(await row.getAttribute("data-rps")), { timeout: 45_000, message: `${name} rps` }).toBeGreaterThan(0);
    await expect
      .poll(async () => ((await row.getByTestId("sparkline").getAttribute("data-values")) ?? "").split(",").some((v) => Number(v) > 0), {
        timeout: 45_000,
        message: `${name} trend`,
      })
      .toBe(true);
    await expect(row.getByTestId("sparkline").locator("polyline")).toHaveAttribute("points", /\d/);
    await expect(row.getByTestId("mtls-cell")).toHaveAttribute("data-mode", /STRICT|PERMISSIVE|DISABLE/);
    await expect(row.getByTestId("sync-badge")).toHaveAttribute("data-sync", /SYNCED|STALE|NACKED/);
  }

  const order = async () =>
    await page
      .locator('[data-testid^="service-row-"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-testid")!.slice("service-row-".length)));
  const rpsInOrder = async () =>
    page.locator('[data-testid^="service-row-"]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-rps"))));

  // Default: by name ascending.
  const byName = await order();
  expect(byName).toEqual([...byName].sort((a, b) => a.localeCompare(b)));

  // By name, descending: the reverse.
  await page.getByTestId("sort-name").click();
  await expect(table).toHaveAttribute("data-sort", "name:desc");
  expect(await order()).toEqual([...byName].reverse());

  // By rps: descending first, then ascending (the rows are re-sorted on every refresh, so read order and rps together).
  await page.getByTestId("sort-rps").click();
  await expect(table).toHaveAttribute("data-sort", "rps:desc");
  const desc = await rpsInOrder();
  expect(desc).toEqual([...desc].sort((a, b) => b - a));
  expect(desc[0]).toBeGreaterThan(desc.at(-1)!);
  await page.getByTestId("sort-rps").click();
  await expect(table).toHaveAttribute("data-sort", "rps:asc");
  const asc = await rpsInOrder();
  expect(asc).toEqual([...asc].sort((a, b) => a - b));

  // A row links to its service page.
  await page.getByTestId("service-row-payments").getByTestId("service-link").click();
  await expect(page).toHaveURL(/\/services\/payments$/);
  await expect(page.getByRole("heading", { name: /payments/ }).first()).toBeVisible();
});
