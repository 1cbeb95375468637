/**
 * Traces in the console against the real console and demo shop (`npm start`): find payments' failed requests, open one
 * and see its waterfall; from the graph's web → payments edge, reach that edge's traces.
 */
import type { APIRequestContext } from "@playwright/test";
import { expect, test, trpcMutate, trpcQuery } from "./fixtures.ts";

interface Policy {
  sampleRate: number;
  slowThresholdMs: number;
  slowThresholdMsByService: Record<string, number>;
}

/**
 * Makes sure payments has failed requests to find: charges sent straight to payments v2 (which answers ~4% of charges
 * with 503) until some failed — bounded, with a clear message otherwise. Errors are always kept, whatever the rate.
 */
async function paymentsFailures(request: APIRequestContext): Promise<number> {
  type Instances = { instances: { version: string; address: string; connected: boolean }[] };
  const v2 = async () =>
    (await trpcQuery<Instances>(request, "services.get", { name: "payments" })).instances.find((i) => i.version === "v2" && i.connected)?.address;
  await expect.poll(v2, { timeout: 45_000, message: "payments v2 is connected" }).toBeTruthy();
  const svc = (await v2())!;
  let failures = 0;
  for (let round = 0; round < 40 && failures < 2; round++) {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request
          .post(`http://${svc}/charge`, { data: { amountCents: 1000 + i, currency: "EUR", card: "4242424242424242" }, timeout: 10_000 })
          .then((r) => r.status())
          .catch(() => 0),
      ),
    );
    failures += results.filter((s) => s >= 500).length;
  }
  expect(failures, "payments v2 answered 503 to at least one of up to 400 charges (it fails ~4%)").toBeGreaterThan(0);
  return failures;
}

test("traces: payments errors → one trace's waterfall; graph edge web → payments → its traces", async ({ page, request }) => {
  test.setTimeout(150_000);
  const before = await trpcQuery<Policy>(request, "telemetry.policy");
  try {
    // Sample everything for this test, through the console's policy form (pushed to every agent).
    await page.goto("/traces");
    await expect(page.getByTestId("traces-page")).toBeVisible();
    await expect(page.getByTestId("policy-rate")).not.toHaveValue("");
    await page.getByTestId("policy-rate").fill("100");
    await page.getByTestId("policy-save").click();
    await expect.poll(async () => (await trpcQuery<Policy>(request, "telemetry.policy")).sampleRate, { timeout: 10_000 }).toBe(1);

    await paymentsFailures(request);

    // Filter on payments errors.
    // (filters live in the URL: wait for each to land before the next)
    await page.getByTestId("traces-filter-service").selectOption("payments");
    await expect(page).toHaveURL(/service=payments/);
    await page.getByTestId("traces-filter-errors").click();
    await expect(page).toHaveURL(/errors=1/);
    await expect(page.getByTestId("traces-filter-errors")).toBeChecked();
    const rows = page.getByTestId("trace-row");
    await expect(rows.first(), "a failed payments trace is listed").toBeVisible({ timeout: 30_000 });
    const errorFlags = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-error")));
    expect(
      errorFlags.every((f) => f === "true"),
      "errors only: every listed trace failed",
    ).toBeTruthy();

    // Open one: its waterfall, with the failed span highlighted.
    const traceId = await rows.first().getAttribute("data-trace-id");
    await rows.first().getByTestId("trace-link").click();
    await expect(page).toHaveURL(new RegExp(`/traces/${traceId}$`));
    const waterfall = page.getByTestId("waterfall");
    await expect(waterfall).toBeVisible();
    await expect(waterfall.getByTestId("waterfall-row").first()).toBeVisible();
    const failedPayments = waterfall.locator('[data-testid="waterfall-row"][data-service="payments"][data-error="true"]').first();
    await expect(failedPayments).toBeVisible();
    await failedPayments.click();
    await expect(page.getByTestId("span-details")).toContainText("payments");
    await expect(page.getByTestId("span-details")).toContainText("503");

    // From the graph: tap the web → payments edge, follow the panel to that edge's traces.
    await page.goto("/");
    await expect(page.getByTestId("service-graph")).toHaveAttribute("data-ready", "true");
    await expect
      .poll(async () => page.evaluate(() => (window.__trellisGraph?.edge("web", "payments")?.id as string | undefined) ?? null), {
        timeout: 45_000,
        message: "the graph has a web → payments edge",
      })
      .not.toBeNull();
    await page.evaluate(() => {
      const g = window.__trellisGraph!;
      const id = String(g.edge("web", "payments")!.id);
      g.cy.getElementById(id).emit("tap");
    });
    const panel = page.getByTestId("edge-panel");
    await expect(panel).toBeVisible();
    await expect(panel).toHaveAttribute("data-source", "web");
    await expect(panel).toHaveAttribute("data-destination", "payments");
    await panel.getByTestId("edge-traces-link").click();
    await expect(page).toHaveURL(/\/traces\?service=web&peer=payments/);
    await expect(page.getByTestId("traces-edge")).toContainText("web → payments");
    const edgeRows = page.getByTestId("trace-row");
    await expect(edgeRows.first(), "traces of the web → payments edge are listed").toBeVisible({ timeout: 45_000 });
    await expect(edgeRows.first()).toContainText("web → payments");
  } finally {
    await trpcMutate(request, "telemetry.setPolicy", before);
  }
});
