/**
 * Property-based tests (fast-check) of request-head handling: header filtering both ways (hop-by-hop removal,
 * Connection-nominated headers, Host and x-trellis-source rewriting, body detection) and the outbound decoder
 * (absolute-form and origin-form targets, authority → service name). Bounded runs; a failure prints its seed and path,
 * which `fc.assert(…, { seed, path })` replays.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { decodeOutbound, serviceOf } from "../src/outbound/decode.ts";
import type { Exchange } from "../src/proxy/exchange.ts";
import { filterRequestHeaders, filterResponseHeaders, PEER_IDENTITY_HEADER, TRELLIS_SOURCE_HEADER } from "../src/proxy/headers.ts";
import { FUZZ_RUNS, headerName, headerValue, randomCase, serviceName } from "./fuzz-arbitraries.ts";

/** Never forwarded, whatever their case (RFC 9110 §7.6.1, plus what Node/undici manage and the agent's own header). */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-connection",
  "proxy-authorization",
  "expect",
  PEER_IDENTITY_HEADER,
];
const SPECIAL = new Set([...HOP_BY_HOP, "host", "content-length", TRELLIS_SOURCE_HEADER]);

/** A header list mixing ordinary headers with hop-by-hop, Host, source and Connection ones, in random case. */
const rawHeaders = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.tuple(headerName, headerValue) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...SPECIAL).chain(randomCase), headerValue) },
      {
        weight: 1,
        arbitrary: fc.tuple(
          fc.constant("Connection").chain(randomCase),
          fc
            .tuple(
              fc.array(fc.oneof(headerName, fc.constantFrom("close", "keep-alive", "Upgrade")), { minLength: 1, maxLength: 4 }),
              fc.constantFrom(",", ", ", " ,\t"),
            )
            .map(([ts, sep]) => ts.join(sep)),
        ),
      },
      { weight: 1, arbitrary: fc.tuple(fc.constant("Content-Length").chain(randomCase), fc.constantFrom("0", "1", "42")) },
    ),
    { maxLength: 24 },
  )
  .map((pairs) => pairs.flat());

/** Header names the request's Connection headers nominate (every Connection header counts: RFC 9110 §7.6.1). */
function nominated(raw: string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i].toLowerCase() === "connection") for (const t of raw[i + 1].split(",")) if (t.trim()) out.add(t.trim().toLowerCase());
  out.delete("close");
  out.delete("keep-alive");
  return out;
}

function names(flat: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push(flat[i].toLowerCase());
  return out;
}

const info = () => ({ source: null as string | null, host: null as string | null, hasBody: false });

test("fuzz: request headers — no hop-by-hop or Connection-nominated header is forwarded; everything else keeps its order", () => {
  fc.assert(
    fc.property(rawHeaders, fc.option(serviceName), fc.option(fc.constant("web/v1")), (raw, host, source) => {
      const i = info();
      const out = filterRequestHeaders(raw, i, host, source);
      assert.equal(out.length % 2, 0);
      const outNames = names(out);
      const drop = nominated(raw);
      for (const n of outNames) {
        assert.ok(!HOP_BY_HOP.includes(n), `hop-by-hop ${n} forwarded`);
        assert.ok(!drop.has(n), `Connection-nominated ${n} forwarded`);
      }
      // Ordinary headers: all of them, same order, same case and value.
      const ordinary = (flat: string[]) => {
        const kept: string[] = [];
        for (let k = 0; k < flat.length; k += 2) {
          const n = flat[k].toLowerCase();
          if (!SPECIAL.has(n) && !drop.has(n)) kept.push(flat[k], flat[k + 1]);
        }
        return kept;
      };
      assert.deepEqual(ordinary(out), ordinary(raw));
      // One Host at most; the given authority wins.
      const hosts = outNames.filter((n) => n === "host");
      assert.ok(hosts.length <= 1);
      if (host !== null && !drop.has("host")) assert.equal(out[outNames.indexOf("host") * 2 + 1], host);
      // Outbound: exactly one source header, this agent's.
      const sources = out.filter((_, k) => k % 2 === 0 && out[k].toLowerCase() === TRELLIS_SOURCE_HEADER);
      if (source !== null) {
        assert.equal(sources.length, 1);
        assert.equal(out[out.length - 1], source);
      }
      // Body: a transfer-encoding, or a content-length other than "0".
      const rawNames = names(raw);
      const hasBody = rawNames.some((n, k) => n === "transfer-encoding" || (n === "content-length" && raw[k * 2 + 1] !== "0"));
      assert.equal(i.hasBody, hasBody);
    }),
    { numRuns: FUZZ_RUNS },
  );
});

test("fuzz: response headers — hop-by-hop and Connection-nominated headers dropped, the rest kept byte for byte", () => {
  fc.assert(
    fc.property(rawHeaders, (raw) => {
      const out = filterResponseHeaders(raw.map((s) => Buffer.from(s, "latin1")));
      const drop = nominated(raw);
      const keep = (n: string) => !HOP_BY_HOP.includes(n) && !drop.has(n);
      const want: string[] = [];
      for (let k = 0; k < raw.length; k += 2) if (keep(raw[k].toLowerCase())) want.push(raw[k], raw[k + 1]);
      assert.deepEqual(out, want);
    }),
    { numRuns: FUZZ_RUNS },
  );
});

test("regression (fuzz): a second Connection header does not cancel the first one's nominations", () => {
  const out = filterRequestHeaders(["Connection", "x-secret", "X-Secret", "1", "Connection", "keep-alive", "a", "b"], info(), null, null);
  assert.deepEqual(out, ["a", "b"]);
  const res = filterResponseHeaders(["Connection", "x-secret", "X-Secret", "1", "connection", "close"].map((s) => Buffer.from(s)));
  assert.deepEqual(res, []);
});

/** A minimal exchange: decodeOutbound reads `req.url` / `req.rawHeaders` and fills the rest. */
function decode(url: string, raw: string[]): Exchange {
  const ex = { req: { url, rawHeaders: raw }, path: "/", headers: [], service: "", source: null, host: null, hasBody: false };
  decodeOutbound(ex as unknown as Exchange, "web/v1");
  return ex as unknown as Exchange;
}

const port = fc.integer({ min: 1, max: 65535 }).map(String);
const pathAndQuery = fc.webPath().chain((p) => fc.option(fc.webQueryParameters()).map((q) => `${p || "/"}${q ? `?${q}` : ""}`));

test("fuzz: outbound decode — absolute-form names the service by its host; the path is origin-form; Host is the authority", () => {
  fc.assert(
    fc.property(
      serviceName.chain(randomCase),
      fc.option(port),
      fc.option(fc.constantFrom("user@", "u:p@", "a@b@")),
      fc.boolean(),
      pathAndQuery,
      rawHeaders,
      (name, p, userinfo, dot, path, raw) => {
        const authority = `${name}${dot ? "." : ""}${p ? `:${p}` : ""}`;
        const ex = decode(`http://${userinfo ?? ""}${authority}${path}`, raw);
        assert.equal(ex.service, name.toLowerCase());
        assert.equal(ex.path, path.startsWith("/") ? path : `/${path}`);
        const h = names(ex.headers);
        if (!nominated(raw).has("host")) assert.equal(ex.headers[h.indexOf("host") * 2 + 1], authority);
      },
    ),
    { numRuns: FUZZ_RUNS },
  );
});

test("fuzz: outbound decode — origin-form takes the service from Host; any request target never throws", () => {
  fc.assert(
    fc.property(serviceName.chain(randomCase), fc.option(port), pathAndQuery, (name, p, path) => {
      const ex = decode(path, ["Host", `${name}${p ? `:${p}` : ""}`]);
      assert.equal(ex.service, name.toLowerCase());
      assert.equal(ex.path, path);
    }),
    { numRuns: FUZZ_RUNS },
  );
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 200 }), rawHeaders, (url, raw) => {
      const ex = decode(url, raw);
      assert.equal(typeof ex.service, "string");
      assert.equal(ex.service, ex.service.toLowerCase());
    }),
    { numRuns: FUZZ_RUNS },
  );
});

test("fuzz: serviceOf — lower-case, no port, no trailing dot; an IPv6 literal is never a service", () => {
  fc.assert(
    fc.property(serviceName.chain(randomCase), fc.option(port), fc.boolean(), (name, p, dot) => {
      assert.equal(serviceOf(`${name}${dot ? "." : ""}${p ? `:${p}` : ""}`), name.toLowerCase());
    }),
    { numRuns: FUZZ_RUNS },
  );
  fc.assert(
    fc.property(fc.ipV6(), fc.option(port), (ip, p) => {
      const s = serviceOf(`[${ip}]${p ? `:${p}` : ""}`);
      assert.ok(s.startsWith("["));
    }),
    { numRuns: FUZZ_RUNS },
  );
});
