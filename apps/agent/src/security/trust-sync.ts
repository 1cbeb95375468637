/**
 * `trust` frames (CA rotation): installs the bundle in the identity, asks for a new certificate at once when the one
 * held does not chain to the root the console issues under, and reports what it holds (`trust-status`) after every
 * change — a bundle, a certificate — so the console can follow each agent through a rotation.
 */
import type { AgentFrame, TrustFrame } from "@trellis/protocol";
import type { Logger } from "../log.ts";
import type { Identity } from "./identity.ts";

/** At most one renewal for a stale issuer per this long (a console whose certificates never match is not hammered). */
const STALE_RENEWAL_GAP_MS = 5_000;

export class TrustSync {
  generation = 0;
  private issuerRoot: string | null = null;
  private lastStaleRenewal = 0;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly identity: Identity,
    /** false when the link is down (the console gets the status after the next `trust` frame). */
    private readonly send: (frame: AgentFrame) => boolean,
    private readonly log: Logger,
  ) {
    identity.onChange(() => {
      this.renewIfStale();
      this.report();
    });
  }

  apply(frame: TrustFrame): void {
    this.generation = frame.generation;
    this.issuerRoot = frame.issuerRoot;
    this.log.info("trust applied", { generation: frame.generation, issuerRoot: frame.issuerRoot.slice(0, 11) });
    // A changed bundle fires the identity's listeners (renew check and report); otherwise do both here.
    if (this.identity.setTrust(frame.bundle)) return;
    this.renewIfStale();
    this.report();
  }

  /** A certificate from another root than the console's issuer is replaced now (phase 2 of a rotation). */
  private renewIfStale(): void {
    const issuer = this.issuerRoot;
    if (issuer === null || this.identity.current === null || this.identity.requesting) return;
    if (this.identity.trustStatus().certificateRoot === issuer) return;
    const wait = this.lastStaleRenewal + STALE_RENEWAL_GAP_MS - Date.now();
    if (wait > 0) {
      this.retry ??= setTimeout(() => {
        this.retry = null;
        this.renewIfStale();
      }, wait);
      this.retry.unref();
      return;
    }
    this.lastStaleRenewal = Date.now();
    void this.identity.requestCertificate("issuer rotated");
  }

  report(): void {
    this.send({ type: "trust-status", generation: this.generation, ...this.identity.trustStatus() });
  }
}
