/**
 * Shared Playwright fixtures: every spec imports `test` and `expect` from here, so signing in to the console lives in
 * one place. Each test's page (and its `request` API context) starts signed in as the admin (playwright.config.ts
 * starts the console with TRELLIS_ADMIN_PASSWORD); specs that need a signed-out browser use `signedOut: true`.
 */
import { type APIRequestContext, test as base, expect } from "@playwright/test";

export const ADMIN_PASSWORD = process.env.TRELLIS_ADMIN_PASSWORD ?? "playwright-admin-password";

async function signIn(request: APIRequestContext, baseURL: string | undefined): Promise<void> {
  const res = await request.post(`${baseURL}/api/auth/signin`, { data: { username: "admin", password: ADMIN_PASSWORD } });
  expect(res.status(), "sign in as admin").toBe(200);
}

export const test = base.extend<{ signedOut: boolean }>({
  signedOut: [false, { option: true }],
  page: async ({ page, signedOut, baseURL }, use) => {
    if (!signedOut) await signIn(page.request, baseURL);
    await use(page);
  },
  // The API request context (its own cookie jar) is signed in the same way; mutations still send the CSRF header.
  request: async ({ request, signedOut, baseURL }, use) => {
    if (!signedOut) await signIn(request, baseURL);
    await use(request);
  },
});
export { expect };

/** A tRPC query as the signed-in admin (plain JSON, no transformer). */
export async function trpcQuery<T>(request: APIRequestContext, path: string, input?: unknown): Promise<T> {
  const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const res = await request.get(`/api/trpc/${path}${qs}`);
  expect(res.ok(), `${path}: ${res.status()}`).toBeTruthy();
  return ((await res.json()) as { result: { data: T } }).result.data;
}

/** A tRPC mutation as the signed-in admin (with the CSRF header the console asks of cookie sessions). */
export async function trpcMutate<T>(request: APIRequestContext, path: string, input: unknown): Promise<T> {
  const res = await request.post(`/api/trpc/${path}`, { data: input, headers: { "x-trellis-csrf": "1" } });
  expect(res.ok(), `${path}: ${res.status()} ${await res.text()}`).toBeTruthy();
  return ((await res.json()) as { result: { data: T } }).result.data;
}
