/**
 * A console that listens beyond loopback serves https + wss with a certificate from its own CA. The kit remembers
 * that CA per console origin (startConsole registers it), so sessions verify the console against it and agents get
 * `--console-ca` — tests talk TLS to such a console exactly as operators do, never with verification switched off.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Agent, fetch as undiciFetch } from "undici";

interface Trusted {
  /** A copy of the CA certificate any user can read (agents in pods run as another UID). */
  file: string;
  dispatcher: Agent;
}

const byOrigin = new Map<string, Trusted>();

/** Remembers the CA (PEM file) that signs the console at `url` (http(s):// or ws(s)://). */
export function trustConsoleCa(url: string, caFile: string): string {
  const pem = readFileSync(caFile, "utf8");
  const dir = mkdtempSync(join(os.tmpdir(), "trellis-console-ca-"));
  chmodSync(dir, 0o755);
  const file = join(dir, "ca.crt");
  writeFileSync(file, pem, { mode: 0o644 });
  byOrigin.set(originOf(url), { file, dispatcher: new Agent({ connect: { ca: pem } }) });
  return file;
}

/** The CA file registered for the console at `url`, if it serves TLS. */
export function consoleCaFile(url: string): string | undefined {
  return byOrigin.get(originOf(url))?.file;
}

/** fetch() that verifies a TLS console against its registered CA. */
export function consoleFetch(url: string, init?: Parameters<typeof undiciFetch>[1]): ReturnType<typeof undiciFetch> {
  const trusted = byOrigin.get(originOf(url));
  return undiciFetch(url, trusted ? { ...init, dispatcher: trusted.dispatcher } : init);
}

function originOf(url: string): string {
  const u = new URL(url.replace(/^ws/, "http"));
  return `${u.protocol}//${u.host}`;
}
