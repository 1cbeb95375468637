/**
 * Policy forms (shared/policy-forms): form model ↔ policy for every form, zod issues and the server's messages mapped
 * to fields, and the YAML view's round trip. Pure; the schemas are @trellis/protocol's own.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ServicePolicy } from "@trellis/protocol";
import type { PolicyFormDef } from "../shared/policy-forms/form-def.ts";
import { patchForServer } from "../shared/policy-forms/form-def.ts";
import { checkPatch, errorsUnder, serverFieldErrors } from "../shared/policy-forms/issues.ts";
import { circuitBreakerForm, faultForm, loadBalancerForm, outlierForm, retriesForm, timeoutsForm } from "../shared/policy-forms/resilience.ts";
import { emptyRoute, pathErrorKey, routesForm } from "../shared/policy-forms/routes.ts";
import { patchFromYaml, yamlOf } from "../shared/policy-forms/yaml-view.ts";

const VERSIONS = ["v1", "v2"];

/** policy → model → patch → validated policy gives the same policy back. */
function roundTrip<M>(form: PolicyFormDef<M>, policy: ServicePolicy): ServicePolicy {
  const check = checkPatch(form.toPatch(form.fromPolicy(policy)), VERSIONS);
  assert.ok(check.ok, JSON.stringify(check));
  return check.policy;
}

test("every form: policy → form model → patch → the same policy (its keys), unset fields take the defaults", () => {
  const full = checkPatch(
    {
      timeoutMs: 2500,
      idleTimeoutMs: 60_000,
      loadBalancer: "round-robin",
      retries: {
        attempts: 3,
        perTryTimeoutMs: 200,
        retryOn: ["5xx", "gateway-error"],
        nonIdempotent: true,
        budget: { ratio: 0.5, minRetriesPerSecond: 4 },
      },
      circuitBreaker: { maxConnections: 10, maxPendingRequests: 0, maxRequests: 20 },
      outlierDetection: {
        consecutive5xx: 3,
        consecutiveGatewayErrors: 2,
        intervalMs: 1000,
        baseEjectionTimeMs: 5000,
        maxEjectionTimeMs: 60_000,
        maxEjectionPercent: 30,
      },
      faultInjection: { delay: { percent: 12.5, ms: 300 }, abort: { percent: 100, status: 503 } },
      routes: [
        { name: "canary", match: { headers: [{ name: "x-canary", value: "1" }], method: "GET" }, version: "v2" },
        {
          match: { pathRegex: "/orders/[0-9]+", query: [{ name: "beta", value: "on" }] },
          split: [
            { version: "v1", weight: 40 },
            { version: "v2", weight: 60 },
          ],
        },
        { match: { pathExact: "/healthz" }, version: "v1" },
        { match: { pathPrefix: "/api" }, version: "v1" },
      ],
    },
    VERSIONS,
  );
  assert.ok(full.ok);
  const policy = full.policy;
  for (const form of [
    timeoutsForm,
    retriesForm,
    circuitBreakerForm,
    outlierForm,
    faultForm,
    loadBalancerForm,
    routesForm,
  ] as PolicyFormDef<unknown>[]) {
    const back = roundTrip(form, policy);
    for (const k of form.keys) assert.deepEqual(back[k], policy[k], k);
    // Nothing beyond the form's own keys.
    assert.deepEqual(Object.keys(back).sort(), [...form.keys].filter((k) => policy[k] !== undefined).sort());
  }
  // An empty policy: disabled forms remove their keys; the route list is empty.
  for (const form of [
    timeoutsForm,
    retriesForm,
    circuitBreakerForm,
    outlierForm,
    faultForm,
    loadBalancerForm,
    routesForm,
  ] as PolicyFormDef<unknown>[])
    assert.deepEqual(roundTrip(form, {}), {});
});

test("forms: enabling a policy with blank fields gives the schema's defaults; unchecking removes it", () => {
  const cb = { ...circuitBreakerForm.fromPolicy({}), enabled: true, maxRequests: "5" };
  const check = checkPatch(circuitBreakerForm.toPatch(cb), VERSIONS);
  assert.ok(check.ok);
  assert.deepEqual(check.policy.circuitBreaker, { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 5 });
  const retries = retriesForm.fromPolicy({
    retries: { attempts: 2, perTryTimeoutMs: 0, retryOn: ["5xx"], nonIdempotent: false, budget: { ratio: 0.2, minRetriesPerSecond: 10 } },
  });
  assert.deepEqual(retriesForm.toPatch({ ...retries, enabled: false }), { retries: undefined });
  assert.deepEqual(patchForServer(retriesForm.keys, { retries: undefined }), { retries: null });
  assert.deepEqual(patchForServer(timeoutsForm.keys, timeoutsForm.toPatch({ timeoutMs: "100", idleTimeoutMs: "" })), {
    timeoutMs: 100,
    idleTimeoutMs: null,
  });
  // Fault: delay only.
  const fault = { ...faultForm.fromPolicy({}), delayEnabled: true, delayPercent: "50", delayMs: "20" };
  assert.deepEqual(faultForm.toPatch(fault), { faultInjection: { delay: { percent: 50, ms: 20 } } });
});

test("a new route: path kind picks the schema key; empty header/query rows are dropped", () => {
  const r = {
    ...emptyRoute(VERSIONS),
    pathKind: "regex" as const,
    path: "/a/.*",
    method: "POST",
    headers: [{ name: "", value: "" }],
    query: [{ name: "q", value: "1" }],
  };
  const check = checkPatch(routesForm.toPatch({ routes: [r] }), VERSIONS);
  assert.ok(check.ok, JSON.stringify(check));
  assert.deepEqual(check.policy.routes, [{ match: { pathRegex: "/a/.*", method: "POST", query: [{ name: "q", value: "1" }] }, version: "v2" }]);
  assert.equal(pathErrorKey("exact"), "match.pathExact");
});

test("zod issues land on the fields they name, with the schema's own messages", () => {
  const bad = checkPatch(
    retriesForm.toPatch({ ...retriesForm.fromPolicy({}), enabled: true, attempts: "11", perTryTimeoutMs: "abc", budgetRatio: "-1" }),
    VERSIONS,
  );
  assert.ok(!bad.ok);
  assert.match(bad.errors["retries.attempts"], /Too big: expected number to be <=10/);
  assert.match(bad.errors["retries.perTryTimeoutMs"], /expected number, received NaN/);
  assert.match(bad.errors["retries.budget.ratio"], /Too small/);

  const fault = checkPatch(faultForm.toPatch({ ...faultForm.fromPolicy({}), abortEnabled: true, abortPercent: "120", abortStatus: "200" }), VERSIONS);
  assert.ok(!fault.ok);
  assert.match(fault.errors["faultInjection.abort.percent"], /<=100/);
  assert.match(fault.errors["faultInjection.abort.status"], />=400/);

  const routes = checkPatch(
    routesForm.toPatch({
      routes: [
        { ...emptyRoute(VERSIONS), pathKind: "regex", path: "/(x" },
        {
          ...emptyRoute(VERSIONS),
          target: "split",
          split: [
            { version: "v1", weight: "50" },
            { version: "v2", weight: "60" },
          ],
        },
        { ...emptyRoute(VERSIONS), version: "v9", pathKind: "prefix", path: "nope" },
      ],
    }),
    VERSIONS,
  );
  assert.ok(!routes.ok);
  assert.match(routes.errors["routes.0.match.pathRegex"], /not a valid regular expression/);
  assert.equal(routes.errors["routes.1.split"], "weights must sum to 100 (got 110)");
  assert.equal(routes.errors["routes.2.match.pathPrefix"], "must start with /");
  assert.deepEqual(errorsUnder(routes.errors, "routes.0"), { "match.pathRegex": routes.errors["routes.0.match.pathRegex"] });

  // Version issues come after the schema passes, from the same protocol function the console uses.
  const unknown = checkPatch(routesForm.toPatch({ routes: [{ ...emptyRoute(VERSIONS), version: "v9" }] }), VERSIONS);
  assert.ok(!unknown.ok);
  assert.equal(unknown.errors["routes.0.version"], "unknown version v9 of this service");

  const timeouts = checkPatch(timeoutsForm.toPatch({ timeoutMs: "-5", idleTimeoutMs: "1.5" }), VERSIONS);
  assert.ok(!timeouts.ok);
  assert.ok(timeouts.errors.timeoutMs);
  assert.ok(timeouts.errors.idleTimeoutMs);
});

test("the server's message maps to the same fields; what names no field of the form stays whole", () => {
  const errs = serverFieldErrors("retries.attempts: Too big: expected number to be <=10; split: weights must sum to 100 (got 110)", ["retries"]);
  assert.deepEqual(errs, { "retries.attempts": "Too big: expected number to be <=10", "": "split: weights must sum to 100 (got 110)" });
  assert.deepEqual(serverFieldErrors("UNAUTHORIZED", ["routes"]), { "": "UNAUTHORIZED" });
  assert.deepEqual(serverFieldErrors("routes.0.version: unknown version v7 of payments", ["routes"]), {
    "routes.0.version": "unknown version v7 of payments",
  });
});

test("YAML view: the form's patch as YAML and back; foreign keys and broken YAML are refused", () => {
  const patch = retriesForm.toPatch({ ...retriesForm.fromPolicy({}), enabled: true, attempts: "3" });
  const text = yamlOf(patch);
  assert.match(text, /^retries:\n {2}attempts: 3\n/);
  const back = patchFromYaml(text, retriesForm.keys);
  assert.ok(back.ok);
  assert.deepEqual(back.patch, patch);
  assert.equal(yamlOf({ retries: undefined }), "{}\n");
  const cleared = patchFromYaml("{}", retriesForm.keys);
  assert.ok(cleared.ok);
  assert.deepEqual(cleared.patch, { retries: undefined });
  const foreign = patchFromYaml("retries: {attempts: 1}\ntimeoutMs: 5\n", retriesForm.keys);
  assert.ok(!foreign.ok);
  assert.match(foreign.errors.timeoutMs, /not edited here/);
  const broken = patchFromYaml("retries: [1,\n", retriesForm.keys);
  assert.ok(!broken.ok);
  assert.match(broken.errors[""], /^YAML: /);
  // The YAML's values are validated like the form's.
  const read = patchFromYaml("faultInjection:\n  abort: {percent: 100, status: 700}\n", faultForm.keys);
  assert.ok(read.ok);
  const check = checkPatch(read.patch, VERSIONS);
  assert.ok(!check.ok);
  assert.match(check.errors["faultInjection.abort.status"], /<=599/);
});
