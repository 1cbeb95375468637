/**
 * Header filtering for both directions. Hop-by-hop headers (RFC 9110 §7.6.1) are dropped, as are the ones undici or
 * Node manage themselves (`transfer-encoding`, `expect`). Works on raw, flat `[name, value, …]` arrays and keeps the
 * order and case of everything else; names are compared case-insensitively without lower-cased copies.
 */
export const TRELLIS_SOURCE_HEADER = "x-trellis-source";
/**
 * Marks an HTTP/1.1 request that travels between agents over HTTP/2 (as linkerd2-proxy's `l5d-orig-proto`): the
 * destination's agent sends it to the app as HTTP/1.1 again and drops the header. Never forwarded to an app.
 */
export const ORIG_PROTO_HEADER = "x-trellis-orig-proto";
/** Set by the inbound side for the app: the caller's SPIFFE id from its certificate. Never taken from a client. */
export const PEER_IDENTITY_HEADER = "x-trellis-peer-identity";

enum H {
  Keep = 0,
  Drop = 1,
  Host = 2,
  Source = 3,
  Connection = 4,
  ContentLength = 5,
  TransferEncoding = 6,
  /** HTTP/2 `:authority`: forwarded as Host (an HTTP/1.1 upstream needs one; the HTTP/2 client turns it back). */
  Authority = 7,
}

/**
 * `name` equals the lowercase literal `lit`, ignoring ASCII case, without allocating a lower-cased copy. `lit` holds
 * only lowercase letters and '-'; header names are RFC 9110 tokens, among which only A–Z fold onto those with `| 0x20`.
 */
function eqLower(name: string, lit: string): boolean {
  if (name.length !== lit.length) return false;
  for (let i = 0; i < lit.length; i++) if ((name.charCodeAt(i) | 0x20) !== lit.charCodeAt(i)) return false;
  return true;
}

function classify(name: string): H {
  // HTTP/2 pseudo-headers (:method, :path, :scheme) are the request line, not headers; :authority is the Host.
  if (name.charCodeAt(0) === 58 /* : */) return name === ":authority" ? H.Authority : H.Drop;
  switch (name.length) {
    case 2:
      return eqLower(name, "te") ? H.Drop : H.Keep;
    case 4:
      return eqLower(name, "host") ? H.Host : H.Keep;
    case 6:
      return eqLower(name, "expect") ? H.Drop : H.Keep; // Node already answered 100-continue
    case 7:
      return eqLower(name, "upgrade") || eqLower(name, "trailer") ? H.Drop : H.Keep;
    case 10:
      if (eqLower(name, "connection")) return H.Connection;
      return eqLower(name, "keep-alive") ? H.Drop : H.Keep;
    case 16:
      if (eqLower(name, TRELLIS_SOURCE_HEADER)) return H.Source;
      return eqLower(name, "proxy-connection") ? H.Drop : H.Keep;
    case 14:
      return eqLower(name, "content-length") ? H.ContentLength : H.Keep;
    case 17:
      return eqLower(name, "transfer-encoding") ? H.TransferEncoding : H.Keep;
    case 23:
      return eqLower(name, PEER_IDENTITY_HEADER) ? H.Drop : H.Keep;
    case 19:
      return eqLower(name, "proxy-authorization") ? H.Drop : H.Keep;
    case 20:
      return eqLower(name, ORIG_PROTO_HEADER) ? H.Drop : H.Keep;
    default:
      return H.Keep;
  }
}

/**
 * Adds the header names a `Connection:` header nominates as hop-by-hop (beyond keep-alive/close) to `set` (created on
 * first use). A message may carry several Connection headers: every one of them counts (RFC 9110 §7.6.1), so a later
 * `Connection: keep-alive` must not cancel an earlier `Connection: x-secret`.
 */
function connectionTokens(value: string, set: Set<string> | null): Set<string> | null {
  // The common values (Node sends `keep-alive` on every keep-alive response) nominate nothing: no split.
  if (eqLower(value, "keep-alive") || eqLower(value, "close")) return set;
  let out = set;
  for (const part of value.split(",")) {
    const t = part.trim().toLowerCase();
    if (t === "" || t === "close" || t === "keep-alive") continue;
    if (out === null) out = new Set();
    out.add(t);
  }
  return out;
}

function dropNominated(out: string[], nominated: Set<string>): string[] {
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!nominated.has(out[i].toLowerCase())) kept.push(out[i], out[i + 1]);
  return kept;
}

/** What `filterRequestHeaders` saw while copying. Reused per exchange: no allocation per request. */
export interface RequestHeaderInfo {
  /** Value of an incoming `x-trellis-source`, or null. */
  source: string | null;
  /** Value of the incoming Host header, or null. */
  host: string | null;
  /** Whether the request has a body (Node's rule: content-length > 0 or transfer-encoding present). */
  hasBody: boolean;
}

/**
 * Copies forwardable request headers. `host` replaces the Host header when given (absolute-form proxy requests);
 * `source` replaces any incoming `x-trellis-source` when given (outbound), else the incoming one is kept (inbound).
 */
export function filterRequestHeaders(raw: string[], info: RequestHeaderInfo, host: string | null, source: string | null): string[] {
  let out: string[] = [];
  let nominated: Set<string> | null = null;
  info.source = null;
  info.host = null;
  info.hasBody = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    switch (classify(name)) {
      case H.Keep:
        out.push(name, raw[i + 1]);
        break;
      case H.Host:
        if (info.host === null) {
          info.host = raw[i + 1];
          out.push(name, host ?? raw[i + 1]);
        }
        break;
      case H.Authority:
        if (info.host === null) {
          info.host = raw[i + 1];
          out.push("host", host ?? raw[i + 1]);
        }
        break;
      case H.Source:
        info.source = raw[i + 1];
        if (source === null) out.push(name, raw[i + 1]);
        break;
      case H.ContentLength:
        if (raw[i + 1] !== "0") info.hasBody = true;
        out.push(name, raw[i + 1]);
        break;
      case H.TransferEncoding:
        info.hasBody = true; // Node de-chunks; undici re-chunks a body of unknown length
        break;
      case H.Connection:
        nominated = connectionTokens(raw[i + 1], nominated);
        break;
      default:
        break;
    }
  }
  if (nominated !== null) out = dropNominated(out, nominated);
  if (host !== null && info.host === null) out.push("host", host);
  if (source !== null) out.push(TRELLIS_SOURCE_HEADER, source);
  return out;
}

/** Converts undici's raw response headers (Buffers) into a flat string array for `res.writeHead`, minus hop-by-hop. */
export function filterResponseHeaders(raw: Buffer[]): string[] {
  let out: string[] = [];
  let nominated: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString("latin1");
    switch (classify(name)) {
      case H.Keep:
      case H.Host:
      case H.Source:
      case H.ContentLength:
        out.push(name, raw[i + 1].toString("latin1"));
        break;
      case H.Connection:
        nominated = connectionTokens(raw[i + 1].toString("latin1"), nominated);
        break;
      default:
        break;
    }
  }
  if (nominated !== null) out = dropNominated(out, nominated);
  return out;
}

/** Trailers as undici (Buffers) or the HTTP/2 client (strings) hand them over, as an object for `addTrailers`. */
export function trailerObject(raw: readonly (Buffer | string)[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toString("latin1").toLowerCase();
    const value = raw[i + 1].toString("latin1");
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** Raw headers as the lines of an HTTP/1.1 head (the 101 of an upgrade). */
export function joinHeaders(raw: Buffer[]): string {
  let out = "";
  for (let i = 0; i < raw.length; i += 2) out += `${raw[i].toString("latin1")}: ${raw[i + 1].toString("latin1")}\r\n`;
  return out;
}
