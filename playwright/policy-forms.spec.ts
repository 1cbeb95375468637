/**
 * Policy forms on the service page, against the real console and demo shop (`npm start`). Every form edits its
 * policy end to end: filled in the browser, saved (a revision), pushed and acknowledged by every agent (the form's
 * own sync badge says "applied"), and the behaviour observed through the mesh — calls sent through an agent's
 * outbound port (the shop's ports table), answers and the agents' spans read back. Calls come from agents whose apps
 * never call the service under test (reviews, recommendations, inventory), so what is observed is the test's own
 * traffic.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import type { APIRequestContext, Page } from "@playwright/test";
import { expect, test, trpcMutate, trpcQuery } from "./fixtures.ts";

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

function outboundOf(service: string): number {
  const ports = JSON.parse(readFileSync(join(process.env.PLAYWRIGHT_DATA_DIR!, "shop", "ports.json"), "utf8")) as {
    instances: { service: string; outbound?: number }[];
  };
  const port = ports.instances.find((i) => i.service === service && i.outbound)?.outbound;
  if (!port) throw new Error(`${service}'s outbound port is not in the shop's ports table`);
  return port;
}

/** One call through `from`'s agent (HTTP proxy form, as the shop's apps call), e.g. `http://payments/healthz`. */
function callVia(from: string, url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: outboundOf(from), path: url, method: opts.method ?? "GET", headers: opts.headers, agent: false, timeout: 15_000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - start }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer in 15 s`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

const CHARGE = JSON.stringify({ amountCents: 1200, currency: "EUR", card: "4242424242424242" });
const charge = (from: string) =>
  callVia(from, "http://payments/charge", { method: "POST", headers: { "content-type": "application/json" }, body: CHARGE });

type PolicyDoc = Record<string, unknown>;
const policyOf = async (request: APIRequestContext, service: string) =>
  (await trpcQuery<{ policy: PolicyDoc }>(request, "traffic.get", { service })).policy;

const RESILIENCE = ["routes", "timeoutMs", "idleTimeoutMs", "loadBalancer", "retries", "circuitBreaker", "outlierDetection", "faultInjection"];

/** Puts a service's policies (not its split) back to the defaults after a test, whatever it left. */
async function resetPolicies(request: APIRequestContext, service: string): Promise<void> {
  await trpcMutate(request, "traffic.update", { service, patch: Object.fromEntries(RESILIENCE.map((k) => [k, null])) });
}

async function openService(page: Page, service: string): Promise<void> {
  await page.goto(`/services/${service}`);
  await expect(page.getByTestId("policy-forms")).toBeVisible({ timeout: 45_000 });
}

/** Saves a form and waits for its own sync badge: saved as a revision, pushed, acknowledged by every agent. */
async function saveAndApplied(page: Page, form: string): Promise<void> {
  const sync = page.getByTestId(`${form}-sync`);
  const before = (await sync.count()) > 0 ? await sync.getAttribute("data-revision") : null;
  await page.getByTestId(`${form}-save`).click();
  await expect(page.getByTestId(`${form}-error`)).toHaveCount(0);
  // Generous bounds: the browser tests share a small, busy machine; the push itself is measured elsewhere.
  await expect.poll(async () => (await sync.count()) > 0 && (await sync.getAttribute("data-revision")) !== before, { timeout: 30_000 }).toBe(true);
  await expect(sync).toHaveAttribute("data-state", "applied", { timeout: 30_000 });
  await expect(sync).toContainText(/applied on (\d+)\/\1/);
}

/** A sampled traceparent of our own, so the agents keep this call's spans and the test can read them back. */
function traceHeaders(): { traceId: string; headers: Record<string, string> } {
  const traceId = randomBytes(16).toString("hex");
  return { traceId, headers: { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` } };
}

interface StoredSpan {
  kind: string;
  service: string;
  peerService: string;
  attributes: Record<string, string | number | boolean>;
}

/** The client span `from`'s agent recorded for the call to `to` in `traceId` (written in batches: polled). */
async function clientSpan(request: APIRequestContext, traceId: string, from: string, to: string): Promise<StoredSpan> {
  let found: StoredSpan | undefined;
  await expect
    .poll(
      async () => {
        const res = await request.get(`/api/trpc/traces.get?input=${encodeURIComponent(JSON.stringify({ traceId }))}`);
        if (!res.ok()) return false;
        const spans = ((await res.json()) as { result: { data: { spans: StoredSpan[] } } }).result.data.spans;
        found = spans.find((s) => s.kind === "client" && s.service === from && s.peerService === to);
        return found !== undefined;
      },
      { timeout: 15_000, message: `the ${from} → ${to} span of trace ${traceId}` },
    )
    .toBe(true);
  return found!;
}

test.beforeAll(async ({ request }) => {
  test.setTimeout(180_000);
  // The shop is up: payments answers through reviews' agent (its agents hold their certificates).
  await expect
    .poll(async () => (await callVia("reviews", "http://payments/healthz").catch(() => ({ status: 0 }))).status, { timeout: 90_000 })
    .toBe(200);
  for (const s of ["payments", "catalog", "web"]) await resetPolicies(request, s);
});

test("fault injection form: an invalid share shows the schema's message and saves nothing; abort 100% and delay reach the callers", async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  await openService(page, "payments");
  const form = "fault-form";
  const revisionsBefore = (await trpcQuery<unknown[]>(request, "revisions.list", { service: "payments" })).length;

  // Inline error from the protocol's schema; nothing is sent.
  await page.getByTestId(`${form}-abort`).check();
  await page.getByTestId(`${form}-abortPercent`).fill("150");
  await page.getByTestId(`${form}-abortStatus`).fill("418");
  await page.getByTestId(`${form}-save`).click();
  await expect(page.getByTestId(`${form}-abortPercent-error`)).toHaveText("Too big: expected number to be <=100");
  await expect(page.getByTestId(`${form}-sync`)).toHaveCount(0);
  expect((await policyOf(request, "payments")).faultInjection).toBeUndefined();
  expect((await trpcQuery<unknown[]>(request, "revisions.list", { service: "payments" })).length).toBe(revisionsBefore);

  // Abort 100% with 418: every call through an agent gets it, said to be the mesh's doing.
  await page.getByTestId(`${form}-abortPercent`).fill("100");
  await expect(page.getByTestId(`${form}-abortPercent-error`)).toHaveCount(0);
  await saveAndApplied(page, form);
  expect((await policyOf(request, "payments")).faultInjection).toEqual({ abort: { percent: 100, status: 418 } });
  for (let i = 0; i < 5; i++) {
    const r = await callVia("reviews", "http://payments/healthz");
    expect(r.status).toBe(418);
    expect(r.headers["x-trellis-error"]).toBe("fault-injected");
  }

  // Delay 100% × 400 ms instead: calls succeed, and take at least that long.
  await page.getByTestId(`${form}-abort`).uncheck();
  await page.getByTestId(`${form}-delay`).check();
  await page.getByTestId(`${form}-delayPercent`).fill("100");
  await page.getByTestId(`${form}-delayMs`).fill("400");
  await saveAndApplied(page, form);
  for (let i = 0; i < 3; i++) {
    const r = await callVia("reviews", "http://payments/healthz");
    expect(r.status).toBe(200);
    expect(r.ms).toBeGreaterThanOrEqual(395);
  }

  // Unchecked both: the policy is removed and calls are fast again.
  await page.getByTestId(`${form}-delay`).uncheck();
  await saveAndApplied(page, form);
  expect((await policyOf(request, "payments")).faultInjection).toBeUndefined();
  const fast = await callVia("reviews", "http://payments/healthz");
  expect(fast.status).toBe(200);
  expect(fast.ms).toBeLessThan(395);
});

test("routes form: a header + exact-path + method route and a regex + query route send calls to v2; others follow the split to v1", async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  await trpcMutate(request, "traffic.setSplit", {
    service: "payments",
    split: [
      { version: "v1", weight: 100 },
      { version: "v2", weight: 0 },
    ],
  });
  try {
    await openService(page, "payments");
    const form = "routes-form";
    await page.getByTestId(`${form}-add`).click();
    const r0 = `${form}-route-0`;
    await page.getByTestId(`${r0}-name`).fill("canary-header");
    await page.getByTestId(`${r0}-pathKind`).selectOption("exact");
    await page.getByTestId(`${r0}-path`).fill("/healthz");
    await page.getByTestId(`${r0}-method`).selectOption("GET");
    await page.getByTestId(`${r0}-header-add`).click();
    await page.getByTestId(`${r0}-header-0-name`).fill("x-forms-canary");
    await page.getByTestId(`${r0}-header-0-value`).fill("1");
    await page.getByTestId(`${r0}-version`).selectOption("v2");

    // An invalid regex: the schema's message under the path field, nothing saved.
    await page.getByTestId(`${form}-add`).click();
    const r1 = `${form}-route-1`;
    await page.getByTestId(`${r1}-pathKind`).selectOption("regex");
    await page.getByTestId(`${r1}-path`).fill("/health(");
    await page.getByTestId(`${r1}-query-add`).click();
    await page.getByTestId(`${r1}-query-0-name`).fill("beta");
    await page.getByTestId(`${r1}-query-0-value`).fill("on");
    await page.getByTestId(`${r1}-version`).selectOption("v2");
    await page.getByTestId(`${form}-save`).click();
    await expect(page.getByTestId(`${r1}-path-error`)).toContainText("not a valid regular expression");
    expect((await policyOf(request, "payments")).routes).toBeUndefined();

    await page.getByTestId(`${r1}-path`).fill("/health[a-z]+");
    await saveAndApplied(page, form);
    expect((await policyOf(request, "payments")).routes).toEqual([
      { name: "canary-header", match: { pathExact: "/healthz", method: "GET", headers: [{ name: "x-forms-canary", value: "1" }] }, version: "v2" },
      { match: { pathRegex: "/health[a-z]+", query: [{ name: "beta", value: "on" }] }, version: "v2" },
    ]);

    const versionOf = async (url: string, headers: Record<string, string> = {}) => {
      const r = await callVia("reviews", url, { headers });
      expect(r.status, url).toBe(200);
      return (JSON.parse(r.body) as { version: string }).version;
    };
    for (let i = 0; i < 6; i++) {
      expect(await versionOf("http://payments/healthz", { "x-forms-canary": "1" })).toBe("v2");
      expect(await versionOf("http://payments/healthz?beta=on")).toBe("v2");
      expect(await versionOf("http://payments/healthz")).toBe("v1"); // no header, no query: the 100/0 split
      expect(await versionOf("http://payments/healthz?beta=off")).toBe("v1");
    }

    // The YAML view shows the same routes; back in the form nothing is lost.
    await page.getByTestId(`${form}-view-yaml`).click();
    await expect(page.getByTestId(`${form}-yaml`)).toHaveValue(/pathRegex: \/health\[a-z\]\+/);
    await page.getByTestId(`${form}-view-form`).click();
    await expect(page.getByTestId(`${r0}-path`)).toHaveValue("/healthz");
  } finally {
    await resetPolicies(request, "payments");
    await trpcMutate(request, "traffic.setSplit", {
      service: "payments",
      split: [
        { version: "v1", weight: 90 },
        { version: "v2", weight: 10 },
      ],
    });
  }
});

test("timeouts form (edited in its YAML view): a 1 ms request timeout makes charges time out at the caller's agent", async ({ page, request }) => {
  test.setTimeout(240_000);
  try {
    await openService(page, "payments");
    const form = "timeouts-form";
    expect((await charge("reviews")).status).toBe(201);
    await page.getByTestId(`${form}-view-yaml`).click();
    // A YAML error is the schema's message too, and saves nothing.
    await page.getByTestId(`${form}-yaml`).fill("timeoutMs: -1\n");
    await page.getByTestId(`${form}-save`).click();
    await expect(page.getByTestId(`${form}-yaml-errors`)).toContainText("timeoutMs: Too small: expected number to be >=0");
    await page.getByTestId(`${form}-yaml`).fill("timeoutMs: 1\n");
    await saveAndApplied(page, form);
    expect((await policyOf(request, "payments")).timeoutMs).toBe(1);
    for (let i = 0; i < 3; i++) {
      const r = await charge("reviews");
      expect(r.status).toBe(504);
      expect(r.headers["x-trellis-error"]).toBe("timeout");
    }
    // The form view edits the same value.
    await page.getByTestId(`${form}-view-form`).click();
    await expect(page.getByTestId(`${form}-timeoutMs`)).toHaveValue("1");
    await page.getByTestId(`${form}-timeoutMs`).fill("");
    await saveAndApplied(page, form);
    expect((await charge("reviews")).status).toBe(201);
  } finally {
    await resetPolicies(request, "payments");
  }
});

test("retries form: web's failing product page is tried three times by the caller's agent (its span says so)", async ({ page, request }) => {
  test.setTimeout(240_000);
  // catalog fails every call (its fault policy, set through the API): web's product page answers 502.
  await trpcMutate(request, "traffic.update", { service: "catalog", patch: { faultInjection: { abort: { percent: 100, status: 503 } } } });
  try {
    const once = traceHeaders();
    expect((await callVia("reviews", "http://web/products/1", { headers: { ...once.headers, accept: "application/json" } })).status).toBe(502);
    expect((await clientSpan(request, once.traceId, "reviews", "web")).attributes["trellis.attempts"]).toBe(1);

    await openService(page, "web");
    const form = "retries-form";
    await page.getByTestId(`${form}-enabled`).check();
    await page.getByTestId(`${form}-attempts`).fill("11");
    await page.getByTestId(`${form}-save`).click();
    await expect(page.getByTestId(`${form}-attempts-error`)).toHaveText("Too big: expected number to be <=10");
    await page.getByTestId(`${form}-attempts`).fill("2");
    for (const c of ["connect-failure", "reset"]) await page.getByTestId(`${form}-on-${c}`).uncheck();
    await expect(page.getByTestId(`${form}-on-5xx`)).toBeChecked();
    await saveAndApplied(page, form);
    expect((await policyOf(request, "web")).retries).toMatchObject({ attempts: 2, retryOn: ["5xx"] });

    const retried = traceHeaders();
    expect((await callVia("reviews", "http://web/products/1", { headers: { ...retried.headers, accept: "application/json" } })).status).toBe(502);
    const span = await clientSpan(request, retried.traceId, "reviews", "web");
    expect(span.attributes["trellis.attempts"]).toBe(3);
    expect(span.attributes["trellis.retries"]).toBe(2);
  } finally {
    await resetPolicies(request, "catalog");
    await resetPolicies(request, "web");
  }
});

test("circuit breaking form: one request in flight at most — concurrent charges beyond it fail fast with circuit-open", async ({ page, request }) => {
  test.setTimeout(240_000);
  try {
    await openService(page, "payments");
    const form = "breaker-form";
    await page.getByTestId(`${form}-enabled`).check();
    await page.getByTestId(`${form}-maxRequests`).fill("0");
    await page.getByTestId(`${form}-save`).click();
    await expect(page.getByTestId(`${form}-maxRequests-error`)).toHaveText("Too small: expected number to be >=1");
    await page.getByTestId(`${form}-maxRequests`).fill("1");
    await saveAndApplied(page, form);
    expect((await policyOf(request, "payments")).circuitBreaker).toEqual({ maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1 });
    const replies = await Promise.all(Array.from({ length: 12 }, () => charge("recommendations")));
    const open = replies.filter((r) => r.status === 503 && r.headers["x-trellis-error"] === "circuit-open");
    expect(open.length).toBeGreaterThan(0);
    expect(replies.filter((r) => r.status === 201).length).toBeGreaterThan(0);

    await page.getByTestId(`${form}-enabled`).uncheck();
    await saveAndApplied(page, form);
    const after = await Promise.all(Array.from({ length: 12 }, () => charge("recommendations")));
    expect(after.filter((r) => r.headers["x-trellis-error"] === "circuit-open")).toHaveLength(0);
  } finally {
    await resetPolicies(request, "payments");
  }
});

test("load balancer form: round robin alternates over catalog's two instances (endpoints read from the caller's spans)", async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  try {
    await openService(page, "catalog");
    const form = "lb-form";
    await page.getByTestId(`${form}-algorithm`).selectOption("round-robin");
    await saveAndApplied(page, form);
    expect((await policyOf(request, "catalog")).loadBalancer).toBe("round-robin");
    const endpoints: string[] = [];
    for (let i = 0; i < 6; i++) {
      const t = traceHeaders();
      expect((await callVia("reviews", "http://catalog/healthz", { headers: t.headers })).status).toBe(200);
      endpoints.push(String((await clientSpan(request, t.traceId, "reviews", "catalog")).attributes["trellis.endpoint"]));
    }
    expect(new Set(endpoints).size).toBe(2);
    for (let i = 1; i < endpoints.length; i++) expect(endpoints[i], endpoints.join(" ")).not.toBe(endpoints[i - 1]);
  } finally {
    await resetPolicies(request, "catalog");
  }
});

test("outlier detection form: after payments v2 answers a 5xx, the caller's agent sends it nothing until the ejection ends", async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  // No split and round robin over payments' two endpoints (v1, v2), so that only ejection keeps calls off v2.
  await trpcMutate(request, "traffic.setSplit", { service: "payments", split: null });
  await trpcMutate(request, "traffic.update", { service: "payments", patch: { loadBalancer: "round-robin" } });
  try {
    await openService(page, "payments");
    const form = "outlier-form";
    await page.getByTestId(`${form}-enabled`).check();
    await page.getByTestId(`${form}-maxEjectionPercent`).fill("101");
    await page.getByTestId(`${form}-save`).click();
    await expect(page.getByTestId(`${form}-maxEjectionPercent-error`)).toHaveText("Too big: expected number to be <=100");
    await page.getByTestId(`${form}-maxEjectionPercent`).fill("50");
    await page.getByTestId(`${form}-consecutive5xx`).fill("1");
    await page.getByTestId(`${form}-baseEjectionTimeMs`).fill("60000");
    await saveAndApplied(page, form);
    expect((await policyOf(request, "payments")).outlierDetection).toMatchObject({
      consecutive5xx: 1,
      baseEjectionTimeMs: 60_000,
      maxEjectionPercent: 50,
    });

    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add((JSON.parse((await callVia("reviews", "http://payments/healthz")).body) as { version: string }).version);
    expect([...seen].sort()).toEqual(["v1", "v2"]);
    // Charges alternate over v1 and v2 until v2's processor fails one (~4% of its charges): that ejects v2.
    let failed = false;
    for (let i = 0; i < 500 && !failed; i++) {
      const r = await charge("reviews");
      failed = r.status === 503 && r.headers["x-trellis-error"] === undefined && (JSON.parse(r.body) as { version?: string }).version === "v2";
    }
    expect(failed, "payments v2 answered one charge with 503").toBe(true);
    for (let i = 0; i < 8; i++) {
      const r = await callVia("reviews", "http://payments/healthz");
      expect(r.status).toBe(200);
      expect((JSON.parse(r.body) as { version: string }).version).toBe("v1");
    }
  } finally {
    await resetPolicies(request, "payments");
    await trpcMutate(request, "traffic.setSplit", {
      service: "payments",
      split: [
        { version: "v1", weight: 90 },
        { version: "v2", weight: 10 },
      ],
    });
  }
});

test("authorization from traffic: the callers seen are previewed as a diff, applied as one revision; an unseen caller is denied", async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  // reviews calls payments (the seen caller, besides the shop's web); inventory never does.
  for (let i = 0; i < 5; i++) expect((await callVia("reviews", "http://payments/healthz")).status).toBe(200);
  await page.goto("/services/payments");
  const panel = page.getByTestId("authz-panel");
  await expect(panel).toBeVisible({ timeout: 45_000 });
  await expect(page.getByTestId("authz-mode")).toHaveAttribute("data-rules", "0");
  await page.getByTestId("authz-generate-minutes").fill("5");
  // The live window needs a settled second or two before these calls count.
  await expect
    .poll(
      async () => {
        await page.getByTestId("authz-generate-preview").click();
        return (await page.getByTestId("authz-generated-caller-reviews").count()) > 0;
      },
      { timeout: 20_000 },
    )
    .toBe(true);
  await expect(page.getByTestId("authz-generated-caller-web")).toHaveAttribute("data-status", "new-rule");
  await expect(page.getByTestId("authz-generated-caller-inventory")).toHaveCount(0);
  const diff = page.getByTestId("authz-generated-diff");
  await expect(diff).toContainText("+ allow spiffe://trellis.local/service/reviews");
  await expect(diff).toContainText("+ allow spiffe://trellis.local/service/web");
  await expect(diff).toContainText("every caller allowed → only the listed callers");
  // Nothing is applied before the operator says so.
  expect((await trpcQuery<{ rules: unknown[] }>(request, "security.service", { name: "payments" })).rules).toHaveLength(0);

  await page.getByTestId("authz-generated-apply").click();
  const applied = page.getByTestId("authz-generated-applied");
  await expect(applied).toContainText("applied as revision");
  try {
    const version = Number(await applied.getAttribute("data-version"));
    await expect
      .poll(async () => {
        const s = await trpcQuery<{ applied: number; total: number }>(request, "traffic.sync", { version });
        return s.total > 0 && s.applied >= s.total;
      })
      .toBe(true);
    const history = await trpcQuery<{ kind: string; diff: string[] | string }[]>(request, "revisions.list", { service: "payments", limit: 1 });
    expect(JSON.stringify(history[0].diff)).toContain("allow spiffe://trellis.local/service/reviews");
    // Behaviour: the seen callers still get through, an unseen one is refused by payments' agent.
    expect((await callVia("reviews", "http://payments/healthz")).status).toBe(200);
    const denied = await callVia("inventory", "http://payments/healthz");
    expect(denied.status).toBe(403);
    expect(denied.headers["x-trellis-error"]).toBe("rbac-denied");
  } finally {
    const rules = (await trpcQuery<{ rules: { id: string }[] }>(request, "security.service", { name: "payments" })).rules;
    for (const r of rules) await trpcMutate(request, "security.removeRule", { id: r.id });
  }
});
