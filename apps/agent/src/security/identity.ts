/**
 * This agent's workload identity: its own ECDSA P-256 key (generated here, never sent anywhere), the certificate the
 * console issued for it (URI SAN `spiffe://<trust-domain>/service/<name>`) and the mesh CA bundle.
 *
 * - A CSR goes to the console over the control link when there is no valid certificate, and again at two thirds of
 *   the certificate's lifetime (renewal; a fresh key each time).
 * - Installing a certificate builds new TLS secure contexts and swaps them in one assignment: new connections
 *   (inbound handshakes, outbound pool connects) use them, connections already open carry on — nothing is dropped.
 * - A new trust bundle (CA rotation: `trust` frames) is hot-swapped the same way, keeping key and certificate.
 * - Key, certificate and CA are kept in `<state-dir>/identity/` (key mode 0600) so an agent restarted while the
 *   console is down still speaks mTLS with its unexpired certificate.
 */
import { createPublicKey, X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import tls from "node:tls";
import type { CertificateFrame } from "@trellis/protocol";
import type { Logger } from "../log.ts";
import { createKeyAndCsr } from "./csr.ts";
import { chainRoot, rootFingerprints } from "./trust.ts";

export interface IssuedIdentity {
  keyPem: string;
  chainPem: string;
  caPem: string;
  spiffeId: string;
  notBefore: number;
  notAfter: number;
  serial: string;
  installedAt: number;
}

export { spiffeIdOfCert } from "./spiffe.ts";

import { spiffeIdOfCert } from "./spiffe.ts";

export class Identity {
  current: IssuedIdentity | null = null;
  /** For outbound (client) connections: our cert + key, trusting only the mesh CA. */
  clientContext: tls.SecureContext | null = null;
  /** Options for the inbound tls.Server's setSecureContext. */
  serverOptions: tls.SecureContextOptions | null = null;
  /** Keys of CSRs sent and not yet answered (a certificate is matched to its key by public key). */
  private pendingKeys: string[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private readonly listeners: (() => void)[] = [];
  /** The trust bundle received before any certificate (afterwards it lives in `current.caPem`). */
  private bundle = "";
  renewals = 0;

  constructor(
    private readonly dir: string,
    private readonly service: string,
    private readonly log: Logger,
    /** Sends a CSR to the console; false when the link is down (retried on the next link-up). */
    private readonly sendCsr: (csrPem: string) => boolean,
  ) {}

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  get valid(): boolean {
    return this.current !== null && this.current.notAfter > Date.now();
  }

  /** Loads a persisted identity if it is still valid. */
  load(): void {
    try {
      const files = ["key.pem", "chain.pem", "ca.pem"].map((f) => join(this.dir, f));
      if (!files.every((f) => existsSync(f))) return;
      const [keyPem, chainPem, caPem] = files.map((f) => readFileSync(f, "utf8"));
      const installed = this.install(keyPem, chainPem, caPem);
      if (installed)
        this.log.info("loaded persisted certificate", { spiffeId: installed.spiffeId, notAfter: new Date(installed.notAfter).toISOString() });
    } catch (err) {
      this.log.warn("ignoring unreadable persisted certificate", { error: (err as Error).message });
    }
  }

  /** Called when the control link comes up: ask for a certificate unless the one held is fresh. */
  linkUp(): void {
    const c = this.current;
    if (c === null || Date.now() >= this.renewAt(c)) void this.requestCertificate("link up");
  }

  /** Two thirds into the lifetime, counted from when it was installed (the CA back-dates notBefore for clock skew). */
  private renewAt(c: IssuedIdentity): number {
    const start = Math.max(c.notBefore, c.installedAt);
    return start + ((c.notAfter - start) * 2) / 3;
  }

  async requestCertificate(reason: string): Promise<void> {
    const { keyPem, csrPem } = await createKeyAndCsr(this.service);
    this.pendingKeys.push(keyPem);
    if (this.pendingKeys.length > 3) this.pendingKeys.shift();
    const sent = this.sendCsr(csrPem);
    this.log.info("certificate requested", { reason, sent });
    // No answer in time (link dropped, console busy): ask again, sooner for short-lived certificates.
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const c = this.current;
    const retryMs = c ? Math.max(1_000, Math.min(10_000, (c.notAfter - c.notBefore) / 12)) : 10_000;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.pendingKeys.length > 0) void this.requestCertificate("retry");
    }, retryMs);
    this.retryTimer.unref();
  }

  /** A `certificate` frame: checks it matches the pending key, installs and persists it, schedules renewal. */
  accept(frame: CertificateFrame): void {
    let leafSpki: Buffer;
    try {
      leafSpki = new X509Certificate(frame.chain).publicKey.export({ type: "spki", format: "der" });
    } catch (err) {
      this.log.warn("unreadable certificate ignored", { error: (err as Error).message });
      return;
    }
    const keyPem = this.pendingKeys.find((k) => createPublicKey(k).export({ type: "spki", format: "der" }).equals(leafSpki));
    if (keyPem === undefined) {
      this.log.warn("certificate for no pending request ignored");
      return;
    }
    const installed = this.install(keyPem, frame.chain, frame.caBundle);
    if (!installed) return;
    this.pendingKeys = [];
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.persist("key.pem", keyPem, 0o600);
    this.persist("chain.pem", frame.chain, 0o644);
    this.persist("ca.pem", frame.caBundle, 0o644);
  }

  private install(keyPem: string, chainPem: string, caPem: string): IssuedIdentity | null {
    const leaf = new X509Certificate(chainPem);
    const notAfter = Date.parse(leaf.validTo);
    const notBefore = Date.parse(leaf.validFrom);
    const spiffeId = spiffeIdOfCert(leaf);
    const keySpki = createPublicKey(keyPem).export({ type: "spki", format: "der" });
    if (!leaf.publicKey.export({ type: "spki", format: "der" }).equals(keySpki)) {
      this.log.error("certificate does not match our key; ignored");
      return null;
    }
    if (spiffeId === null || notAfter <= Date.now()) {
      this.log.warn("certificate is expired or has no SPIFFE id; ignored", { notAfter: leaf.validTo });
      return null;
    }
    const issued: IssuedIdentity = { keyPem, chainPem, caPem, spiffeId, notBefore, notAfter, serial: leaf.serialNumber, installedAt: Date.now() };
    const renewing = this.current !== null;
    this.swapContexts(issued);
    if (renewing) this.renewals++;
    this.log.info(renewing ? "certificate renewed" : "certificate installed", {
      spiffeId,
      serial: issued.serial,
      notAfter: new Date(notAfter).toISOString(),
    });
    this.scheduleRenewal(issued);
    for (const fn of this.listeners) fn();
    return issued;
  }

  /** New TLS contexts for `c`, swapped in one assignment (connections already open carry on). */
  private swapContexts(c: IssuedIdentity): void {
    const opts: tls.SecureContextOptions = { key: c.keyPem, cert: c.chainPem, ca: c.caPem, minVersion: "TLSv1.2" };
    this.clientContext = tls.createSecureContext(opts);
    this.serverOptions = opts;
    this.current = c;
  }

  /**
   * A new trust bundle (every root of it trusted for client and server verification): hot-swapped into the TLS
   * contexts and persisted. Before the first certificate it is kept for the status only (a certificate frame brings
   * its own bundle). Returns whether anything changed.
   */
  setTrust(bundle: string): boolean {
    const c = this.current;
    if (c === null) {
      const changed = this.bundle !== bundle;
      this.bundle = bundle;
      return changed;
    }
    if (c.caPem === bundle) return false;
    this.swapContexts({ ...c, caPem: bundle });
    this.log.info("trust bundle installed", { roots: rootFingerprints(bundle).length });
    this.persist("ca.pem", bundle, 0o644);
    for (const fn of this.listeners) fn();
    return true;
  }

  /** The roots trusted now and the root the certificate held chains to. */
  trustStatus(): { roots: string[]; certificateRoot: string | null } {
    const c = this.current;
    const bundle = c?.caPem ?? this.bundle;
    return { roots: rootFingerprints(bundle), certificateRoot: c ? chainRoot(c.chainPem, c.caPem) : null };
  }

  /** Whether a CSR is out and unanswered. */
  get requesting(): boolean {
    return this.pendingKeys.length > 0;
  }

  private persist(name: string, data: string, mode: number): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const file = join(this.dir, name);
      writeFileSync(`${file}.tmp`, data, { mode });
      chmodSync(`${file}.tmp`, mode);
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.log.warn("could not persist identity file", { file: name, error: (err as Error).message });
    }
  }

  private scheduleRenewal(c: IssuedIdentity): void {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    const delay = Math.max(0, this.renewAt(c) - Date.now());
    this.renewTimer = setTimeout(
      () => {
        this.renewTimer = null;
        void this.requestCertificate("renewal");
      },
      Math.min(delay, 2 ** 31 - 1),
    );
    this.renewTimer.unref();
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.renewTimer = null;
  }
}
