/**
 * gRPC on the service page, against the real console and the real demo shop (`npm start`): cart calls shipping over
 * gRPC from the first minute, so cart's outbound table and shipping's inbound table list that edge's outcomes as gRPC
 * status codes (`gRPC OK n`), while cart's HTTP edges keep their status classes.
 */
import { expect, test } from "./fixtures.ts";

test("the service page shows gRPC status codes for the gRPC edge cart → shipping, inbound and outbound", async ({ page }) => {
  await page.goto("/services/cart");
  const out = page.getByTestId("edges-out");
  const toShipping = out.locator("tr", { has: page.getByRole("link", { name: "shipping", exact: true }) });
  await expect(toShipping.locator('[data-protocol="grpc"][data-code="0"]')).toHaveText(/^gRPC OK \d+$/, { timeout: 45_000 });
  await expect(toShipping.locator('[data-protocol="http"]')).toHaveCount(0);
  // cart's HTTP edges (to inventory) still show HTTP classes.
  const toInventory = out.locator("tr", { has: page.getByRole("link", { name: "inventory", exact: true }) });
  await expect(toInventory.locator('[data-protocol="http"][data-code="2xx"]')).toHaveText(/^2xx \d+$/);

  await page.goto("/services/shipping");
  const fromCart = page.getByTestId("edges-in").locator("tr", { has: page.getByRole("link", { name: "cart", exact: true }) });
  await expect(fromCart.locator('[data-protocol="grpc"][data-code="0"]')).toHaveText(/^gRPC OK \d+$/, { timeout: 30_000 });
});
