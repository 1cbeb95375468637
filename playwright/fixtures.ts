/**
 * Shared Playwright fixtures: every spec imports `test` and `expect` from here, so signing in to the console lives in
 * one place. Each test's page starts signed in as the admin (playwright.config.ts starts the console with
 * TRELLIS_ADMIN_PASSWORD); specs that need a signed-out browser use `signedOut: true`.
 */
import { test as base, expect } from "@playwright/test";

export const ADMIN_PASSWORD = process.env.TRELLIS_ADMIN_PASSWORD ?? "playwright-admin-password";

export const test = base.extend<{ signedOut: boolean }>({
  signedOut: [false, { option: true }],
  page: async ({ page, signedOut, baseURL }, use) => {
    if (!signedOut) {
      const res = await page.request.post(`${baseURL}/api/auth/signin`, {
        data: { username: "admin", password: ADMIN_PASSWORD },
      });
      expect(res.status(), "sign in as admin").toBe(200);
    }
    await use(page);
  },
});
export { expect };
