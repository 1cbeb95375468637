/**
 * Turns an app's request into the exchange's destination: the service name (from an absolute-form proxy URI
 * `http://catalog/items`, else from `Host: catalog[:port]`), the origin-form path, and the forwarded headers
 * (hop-by-hop stripped, `x-trellis-source` set to this agent's service/version).
 */
import type { Exchange } from "../proxy/exchange.ts";
import { filterRequestHeaders } from "../proxy/headers.ts";

/** Host name of an authority (`catalog:8080` → `catalog`), lower-cased, without a trailing dot. */
export function serviceOf(authority: string): string {
  let end = authority.length;
  if (authority.charCodeAt(0) === 91 /* [ */) return authority.toLowerCase(); // an IPv6 literal is never a service
  const colon = authority.indexOf(":");
  if (colon >= 0) end = colon;
  if (end > 0 && authority.charCodeAt(end - 1) === 46 /* . */) end--;
  const host = authority.slice(0, end);
  return host.toLowerCase();
}

export function decodeOutbound(ex: Exchange, sourceValue: string): void {
  const url = ex.req.url ?? "/";
  let authority: string | null = null;
  let path = url;
  if (url.charCodeAt(0) !== 47 /* / */ && url !== "*") {
    const schemeEnd = url.indexOf("://");
    if (schemeEnd > 0) {
      const start = schemeEnd + 3;
      let end = url.length;
      for (let i = start; i < url.length; i++) {
        const c = url.charCodeAt(i);
        if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
          end = i;
          break;
        }
      }
      authority = url.slice(start, end);
      const at = authority.lastIndexOf("@");
      if (at >= 0) authority = authority.slice(at + 1);
      path = end === url.length ? "/" : url.charCodeAt(end) === 47 ? url.slice(end) : `/${url.slice(end)}`;
    }
  }
  ex.path = path;
  ex.headers = filterRequestHeaders(ex.req.rawHeaders, ex, authority, sourceValue);
  if (ex.h2) ex.decodedH2();
  const a = authority ?? ex.host;
  ex.service = a === null ? "" : serviceOf(a);
}
