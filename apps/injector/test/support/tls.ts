/** A throwaway serving certificate for the webhook, made with the real `openssl` as an operator would. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const WEBHOOK_HOST = "trellis-injector.trellis-system.svc";

export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "injector-tls-"));
  try {
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"],
        ...["-subj", `/CN=${WEBHOOK_HOST}`, "-addext", `subjectAltName=DNS:${WEBHOOK_HOST},IP:127.0.0.1`],
        ...["-keyout", join(dir, "tls.key"), "-out", join(dir, "tls.crt")],
      ],
      { stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "tls.key"), "utf8"), cert: readFileSync(join(dir, "tls.crt"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
