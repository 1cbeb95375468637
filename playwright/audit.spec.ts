/**
 * The audit log in the browser: a failed sign-in from the sign-in form shows on the admin's Audit page, found with
 * the page's filters (action, outcome, actor), with the username tried and the client's address.
 */
import { expect, test } from "./fixtures.ts";

test.describe("a failed sign-in", () => {
  test.use({ signedOut: true });
  test("is refused on the sign-in form", async ({ page }) => {
    await page.goto("/signin");
    await page.getByTestId("signin-username").fill("mallory");
    await page.getByTestId("signin-password").fill("not-the-password");
    await page.getByTestId("signin-submit").click();
    await expect(page.getByTestId("signin-error")).toContainText("Invalid username or password");
  });
});

test("the admin finds it on the Audit page with the filters", async ({ page }) => {
  await page.goto("/");
  await page.getByTestId("nav-audit").click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByTestId("audit-table")).toBeVisible();
  await page.getByTestId("audit-actor").fill("mallory");
  await page.getByTestId("audit-action").selectOption("auth.signin");
  await page.getByTestId("audit-outcome").selectOption("failure");
  await page.getByTestId("audit-apply").click();
  const rows = page.locator('[data-testid^="audit-row-"]');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-outcome", "failure");
  await expect(rows.first()).toContainText("mallory");
  await expect(rows.first()).toContainText("127.0.0.1");
  // Nothing of mallory's succeeded.
  await page.getByTestId("audit-outcome").selectOption("success");
  await page.getByTestId("audit-apply").click();
  await expect(page.getByText("No events match.")).toBeVisible();
});
