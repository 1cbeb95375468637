/**
 * Property-based tests (fast-check) of authorization path matching (policy/authz.ts): an allow-list of path prefixes
 * cannot be walked around with dot segments or encoded separators, prefixes match whole segments, and a plaintext
 * caller is never admitted, not even by `*`. Bounded runs; a failure prints its seed and path.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { canonicalPath, compileAuthz } from "../src/policy/authz.ts";
import { FUZZ_RUNS, randomCase } from "./fuzz-arbitraries.ts";

const PEER = "spiffe://trellis.local/service/web";

/** Segments an attacker would try: dot segments, encoded dots/slashes/backslashes in any case, plain names. */
const segment = fc.oneof(
  fc.stringMatching(/^[a-z0-9_-]{1,6}$/),
  fc.constantFrom("..", ".", "%2e%2e", "%2e", ".%2e", "%2f", "a%2fb", "%5c", "\\", "..\\", "public", "admin", "").chain(randomCase),
);
const target = fc
  .tuple(fc.array(segment, { maxLength: 6 }), fc.option(fc.constantFrom("?a=1", "?x=/../admin", "?")))
  .map(([segs, q]) => `/${segs.join("/")}${q ?? ""}`);

/** How a server resolving the target (WHATWG URL: dot segments, `%2e`, `\`) would see its path. */
function resolved(t: string): string {
  return new URL(t, "http://svc").pathname;
}

test("fuzz: an allowed path is canonical — resolving it changes nothing, and it lies under an allowed prefix", () => {
  const authz = compileAuthz({ rules: [{ principals: [PEER], methods: [], paths: ["/public"] }] });
  fc.assert(
    fc.property(target, (t) => {
      if (!authz.allows(PEER, "GET", t)) return;
      const path = canonicalPath(t);
      assert.ok(path !== null);
      assert.equal(resolved(t), path, `${t} resolves elsewhere`);
      assert.ok(!/%2f|%5c/i.test(path), `${t} hides a separator`);
      assert.ok(path === "/public" || path.startsWith("/public/"), `${t} escapes /public`);
    }),
    { numRuns: FUZZ_RUNS * 3 },
  );
});

test("fuzz: canonicalPath — null for dot segments and encoded separators, else the path without its query", () => {
  fc.assert(
    fc.property(target, (t) => {
      const path = canonicalPath(t);
      const q = t.indexOf("?");
      const raw = q === -1 ? t : t.slice(0, q);
      if (path === null) return;
      assert.equal(path, raw);
      assert.ok(!raw.split("/").some((s) => s === "." || s === ".."));
      assert.ok(!/%2e|%2f|%5c|\\/i.test(raw));
    }),
    { numRuns: FUZZ_RUNS },
  );
});

test("fuzz: a plaintext caller is never allowed, whatever the rules say (`*` means an authenticated identity)", () => {
  const rule = fc.record({
    principals: fc.array(fc.constantFrom("*", PEER, "spiffe://trellis.local/service/x"), { minLength: 1, maxLength: 3 }),
    methods: fc.array(fc.constantFrom<string>("GET", "POST"), { maxLength: 2 }),
    paths: fc.array(fc.constantFrom("/", "/public", "/a/"), { maxLength: 2 }),
  });
  fc.assert(
    fc.property(fc.array(rule, { maxLength: 4 }), target, fc.constantFrom("GET", "POST", "DELETE"), (rules, t, m) => {
      const authz = compileAuthz({ rules });
      assert.equal(authz.allows(null, m, t), false);
      // And an authenticated caller is allowed only when some rule names it (or `*`) and admits the method and path.
      const model = rules.some(
        (r) =>
          (r.principals.includes("*") || r.principals.includes(PEER)) &&
          (r.methods.length === 0 || r.methods.includes(m)) &&
          (r.paths.length === 0 ||
            (canonicalPath(t) !== null &&
              r.paths.some((p) => {
                const path = canonicalPath(t)!;
                return path === p || (path.startsWith(p) && (p.endsWith("/") || path[p.length] === "/"));
              }))),
      );
      assert.equal(authz.allows(PEER, m, t), model);
    }),
    { numRuns: FUZZ_RUNS },
  );
});
