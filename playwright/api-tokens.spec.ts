/**
 * Settings → API tokens in the browser: an admin creates an operator token (the value shown once), it works as a
 * bearer on the API, its row shows role and last use; revoking it turns the bearer away (401).
 */
import { request as apiRequest } from "@playwright/test";
import { expect, test } from "./fixtures.ts";

test("an API token made in Settings works as a bearer until it is revoked", async ({ page, baseURL }) => {
  await page.goto("/settings");
  const card = page.getByTestId("api-tokens");
  await card.getByPlaceholder("token name").fill("pw-ci");
  await card.getByLabel("role").selectOption("operator");
  await card.getByRole("button", { name: "Create API token" }).click();
  const value = (await card.getByTestId("new-api-token").locator("code").textContent()) ?? "";
  expect(value).toMatch(/^trl_/);
  const row = card.getByTestId("api-token-row-pw-ci");
  await expect(row).toContainText("operator");
  await expect(row).toContainText("active");

  // A fresh context: no cookie, only the bearer.
  const bearer = await apiRequest.newContext({ baseURL, extraHTTPHeaders: { authorization: `Bearer ${value}` } });
  expect((await bearer.get("/api/trpc/services.list")).status()).toBe(200);
  await page.reload();
  await expect(card.getByTestId("api-token-row-pw-ci")).not.toContainText("never"); // used just now (and the default expiry is 90 days)
  await card.getByTestId("api-token-row-pw-ci").getByRole("button", { name: "Revoke" }).click();
  await expect(card.getByTestId("api-token-row-pw-ci")).toContainText("revoked");
  expect((await bearer.get("/api/trpc/services.list")).status()).toBe(401);
  await bearer.dispose();
});
