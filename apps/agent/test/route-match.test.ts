/**
 * Route conditions beyond prefix and headers (config/routes.ts): exact path, anchored path regex, method and query
 * parameters, compiled from the protocol's schema, and the schema's own refusals (two path kinds, a broken regex).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { routeRuleSchema } from "@trellis/protocol";
import { RouteRuleMatch } from "../src/config/routes.ts";
import { compileMoreMatch } from "../src/policy/route-match.ts";

function rule(match: Record<string, unknown>): RouteRuleMatch {
  const parsed = routeRuleSchema.parse({ match, version: "v1" });
  return new RouteRuleMatch("r", parsed.match.pathPrefix ?? null, [], [], compileMoreMatch(parsed.match));
}

test("pathExact: the path before the query, exactly", () => {
  const r = rule({ pathExact: "/api" });
  assert.equal(r.matches("/api", []), true);
  assert.equal(r.matches("/api?x=1", []), true);
  assert.equal(r.matches("/api/", []), false);
  assert.equal(r.matches("/api/x", []), false);
  assert.equal(r.matches("/apix", []), false);
});

test("pathRegex: anchored to the whole path, query excluded", () => {
  const r = rule({ pathRegex: "/users/[0-9]+(/.*)?" });
  assert.equal(r.matches("/users/12", []), true);
  assert.equal(r.matches("/users/12/orders?x=/y", []), true);
  assert.equal(r.matches("/users/ab", []), false);
  assert.equal(r.matches("/v1/users/12", []), false, "not a substring search");
  assert.equal(r.matches("/users/12x", []), false);
  // An alternation stays inside the anchors.
  const alt = rule({ pathRegex: "/a|/b" });
  assert.equal(alt.matches("/a", []), true);
  assert.equal(alt.matches("/b", []), true);
  assert.equal(alt.matches("/ab", []), false);
  assert.equal(alt.matches("/x/b", []), false);
});

test("method: exact and case-sensitive", () => {
  const r = rule({ method: "POST", pathPrefix: "/charge" });
  assert.equal(r.matches("/charge", [], "POST"), true);
  assert.equal(r.matches("/charge", [], "GET"), false);
  assert.equal(r.matches("/refund", [], "POST"), false);
  assert.equal(r.matches("/charge", []), false, "no method given: no match");
});

test("query: every parameter present with that value, percent-decoded; repeated parameters count", () => {
  const r = rule({
    query: [
      { name: "beta", value: "on" },
      { name: "q", value: "a b" },
    ],
  });
  assert.equal(r.matches("/s?beta=on&q=a%20b", []), true);
  assert.equal(r.matches("/s?q=a+b&x=1&beta=on", []), true);
  assert.equal(r.matches("/s?beta=off&beta=on&q=a b", []), true);
  assert.equal(r.matches("/s?beta=on", []), false);
  assert.equal(r.matches("/s?beta=ON&q=a%20b", []), false);
  assert.equal(r.matches("/s", []), false);
});

test("a rule without the new conditions keeps the shared fast path", () => {
  const parsed = routeRuleSchema.parse({ match: { pathPrefix: "/a" }, version: "v1" });
  assert.equal(compileMoreMatch(parsed.match), compileMoreMatch(routeRuleSchema.parse({ version: "v1" }).match));
});

test("schema: one path kind at most, a regex must compile, methods upper case", () => {
  const issues = (match: unknown) => {
    const r = routeRuleSchema.safeParse({ match, version: "v1" });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };
  assert.deepEqual(issues({ pathPrefix: "/a", pathRegex: "/b" }), [
    "match.pathRegex: use one of pathPrefix, pathExact or pathRegex (got pathPrefix and pathRegex)",
  ]);
  assert.match(issues({ pathRegex: "/(a" })[0], /^match\.pathRegex: not a valid regular expression/);
  assert.match(issues({ method: "get" })[0], /^match\.method: must be an HTTP method in upper case/);
  assert.match(issues({ query: [{ name: "", value: "x" }] })[0], /^match\.query\.0\.name:/);
  assert.deepEqual(issues({ pathExact: "/a", method: "GET", query: [{ name: "a", value: "" }] }), []);
});
