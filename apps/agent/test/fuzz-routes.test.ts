/**
 * Property-based tests (fast-check) of route matching (config/routes.ts): path prefixes match whole segments, header
 * matches are exact with case-insensitive names, and the first matching rule decides. Bounded runs; a failure prints
 * its seed and path.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { RouteRuleMatch, ServiceRoute, TargetSet } from "../src/config/routes.ts";
import { matchesPathPrefix } from "../src/policy/path-prefix.ts";
import { FUZZ_RUNS, headerName, headerValue, randomCase } from "./fuzz-arbitraries.ts";

const segment = fc.stringMatching(/^[A-Za-z0-9._~%-]{1,8}$/);
/** `/a/b` (never ending in '/'). */
const prefix = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join("/")}`);
const rest = fc.string({ maxLength: 20 });
const set = (version: string) => new TargetSet(version, [], null as never);

test("fuzz: a prefix rule never matches a path outside its segment", () => {
  fc.assert(
    fc.property(prefix, segment, rest, (p, glued, tail) => {
      // `/api` + `keys…`: same characters, another segment.
      assert.equal(matchesPathPrefix(`${p}${glued}${tail}`, p), false);
      assert.equal(new RouteRuleMatch("r", p, [], []).matches(`${p}${glued}${tail}`, []), false);
    }),
    { numRuns: FUZZ_RUNS },
  );
});

test("fuzz: a prefix rule matches its own segment, anything below it, and it with a query", () => {
  fc.assert(
    fc.property(prefix, fc.constantFrom("", "/", "?", "/x/y", "?a=1&b=/c"), rest, (p, sep, tail) => {
      const path = sep === "" ? p : `${p}${sep}${tail}`;
      assert.equal(matchesPathPrefix(path, p), true, path);
      // With a trailing '/', the prefix matches whatever starts with it.
      assert.equal(matchesPathPrefix(`${p}/${tail}`, `${p}/`), true);
    }),
    { numRuns: FUZZ_RUNS },
  );
});

test("fuzz: a prefix rule never matches a path that does not start with it", () => {
  fc.assert(
    fc.property(prefix, fc.string({ maxLength: 30 }), (p, path) => {
      fc.pre(!path.startsWith(p));
      assert.equal(matchesPathPrefix(path, p), false);
    }),
    { numRuns: FUZZ_RUNS },
  );
});

const headers = fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 });

test("fuzz: header matches — every wanted header must be present with that exact value; names ignore case", () => {
  /** [rule's name, the same name as the request spells it, value]. */
  const wantedHeaders = fc.array(
    fc.tuple(
      headerName.chain((n) => randomCase(n).map((c) => [n, c] as const)),
      headerValue,
    ),
    { maxLength: 8 },
  );
  fc.assert(
    fc.property(wantedHeaders, headers, fc.boolean(), (want, others, include) => {
      const wanted = want.map(([[n], v]) => [n.toLowerCase(), v]);
      // Half the time the request carries every wanted header (names in another case, after the others).
      const raw: string[] = others.flat();
      if (include) for (const [[, spelled], v] of want) raw.push(spelled, v);
      const rule = new RouteRuleMatch("r", null, wanted.flat(), []);
      const model = wanted.every(([n, v]) => {
        for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === n && raw[i + 1] === v) return true;
        return false;
      });
      assert.equal(rule.matches("/", raw), model);
      if (include) assert.equal(model, true);
    }),
    { numRuns: FUZZ_RUNS },
  );
});

test("fuzz: the first matching rule decides; no match falls back to the default split", () => {
  const rules = fc.array(fc.tuple(fc.option(prefix), fc.array(fc.tuple(headerName, headerValue), { maxLength: 2 })), {
    minLength: 1,
    maxLength: 6,
  });
  fc.assert(
    fc.property(rules, prefix, fc.string({ maxLength: 10 }), headers, (rs, p, tail, raw) => {
      const sets = rs.map((_, i) => set(`v${i}`));
      const compiled = rs.map(
        ([pp, hs], i) =>
          new RouteRuleMatch(
            `r${i}`,
            pp,
            hs.flatMap(([n, v]) => [n.toLowerCase(), v]),
            [{ upTo: 100, set: sets[i] }],
          ),
      );
      const fallback = set("default");
      const route = new ServiceRoute("svc", 0, "p2c", fallback, [{ upTo: 100, set: fallback }], compiled);
      const path = `${p}${tail}`;
      const flat = raw.flat();
      const first = compiled.findIndex((r) => r.matches(path, flat));
      assert.equal(route.route(path, flat), first === -1 ? fallback : sets[first]);
    }),
    { numRuns: FUZZ_RUNS },
  );
});
