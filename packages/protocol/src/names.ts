import { z } from "zod";

/** Service names are DNS labels: the app addresses them as hostnames (`http://catalog/items`). */
export const serviceNameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label: lowercase letters, digits and '-'");

/** A version (subset label) such as `v1`, `v2`, `2024-06-canary`. */
export const versionSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][-_.A-Za-z0-9]*$/, "must start with a letter or digit and use only letters, digits, '-', '_', '.'");

/** Source name used for traffic that enters the mesh from outside (no calling agent). */
export const INGRESS_SOURCE = "ingress";
/** Version label for an unknown or absent version. */
export const UNKNOWN_VERSION = "unknown";

/** `host:port`, IPv4, `[IPv6]` or a hostname. */
export const hostPortSchema = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "must be host:port");

/**
 * Whether a host (name or address, IPv6 with or without brackets) is this machine's loopback: 127.0.0.0/8, ::1,
 * localhost. Beyond it the console serves TLS and agents send their join token over TLS only.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
