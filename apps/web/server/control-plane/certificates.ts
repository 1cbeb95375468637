/**
 * `csr` → `certificate`: the authority issuing now signs the agent's key for its service's SPIFFE identity; the frame
 * carries the mesh's whole trust bundle (during a CA rotation, more than one root).
 */
import type { CertificateFrame, CsrFrame } from "@trellis/protocol";
import type { Logger } from "../log.ts";
import type { CertificateAuthority } from "../security/ca.ts";
import type { AgentSession } from "./session.ts";

/** The authority that issues now and the bundle agents trust (CA rotation changes both). */
export interface IssuerSource {
  issuer(): CertificateAuthority;
  bundle(): string;
}

export class CertificateIssuer {
  constructor(
    /** Without one, `csr` frames get an error. */
    private readonly trust: IssuerSource | undefined,
    private readonly log: Logger,
  ) {}

  /** One request per agent at a time; the answer is a `certificate` frame or a non-fatal `bad-csr` error. */
  request(session: AgentSession, frame: CsrFrame): void {
    const h = session.hello!;
    const trust = this.trust;
    const ca = trust?.issuer();
    if (!trust || !ca) {
      session.sendError({ code: "no-ca", message: "this console does not issue certificates", fatal: false });
      return;
    }
    if (session.csrInFlight) {
      session.sendError({ code: "csr-in-flight", message: "a certificate request is already being handled", fatal: false });
      return;
    }
    session.csrInFlight = true;
    ca.issue(h.service, frame.csr).then(
      (c) => {
        session.csrInFlight = false;
        session.certificatesIssued++;
        if (!session.open) return;
        const out: CertificateFrame = {
          type: "certificate",
          chain: c.chain,
          caBundle: trust.bundle(),
          spiffeId: c.spiffeId,
          notBefore: c.notBefore.toISOString(),
          notAfter: c.notAfter.toISOString(),
        };
        session.certificate = { notBefore: out.notBefore, notAfter: out.notAfter };
        session.send(JSON.stringify(out));
        this.log.info("certificate issued", { instanceId: h.instanceId, spiffeId: c.spiffeId, serial: c.serial, notAfter: out.notAfter });
      },
      (err: unknown) => {
        session.csrInFlight = false;
        this.log.warn("certificate request refused", { instanceId: h.instanceId, error: (err as Error).message });
        session.sendError({ code: "bad-csr", message: `certificate request refused: ${(err as Error).message}`, fatal: false });
      },
    );
  }
}
