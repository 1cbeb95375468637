/**
 * deploy/scripts run for real with a recording stand-in for kubectl (no cluster here): the CA that create-secrets.sh
 * makes with openssl is loaded by the console's own CertificateAuthority (as the console's init container lays it
 * out) and signs an agent's CSR; mesh-namespace.sh labels the namespace and copies the token.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { issueClientCert, openCa } from "../support/pki.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "trellis-deploy-scripts-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** kubectl that knows no object, keeps `create secret generic` files under $REC/<name>/, logs every call. */
const FAKE_KUBECTL = `#!/usr/bin/env bash
echo "$*" >>"$REC/calls"
args=("$@"); [ "\${args[0]}" = "-n" ] && args=("\${args[@]:2}")
case "\${args[0]} \${args[1]}" in
  "get secret") [ -n "$TOKEN_B64" ] && [ "\${args[2]}" = trellis-join-token ] && { printf '%s' "$TOKEN_B64"; exit 0; }; exit 1 ;;
  "get namespace") exit 1 ;;
  "create secret")
    name="\${args[3]}"; mkdir -p "$REC/$name"
    for a in "\${args[@]}"; do case "$a" in
      --from-file=*) kv="\${a#--from-file=}"; cp "\${kv#*=}" "$REC/$name/\${kv%%=*}" ;;
      --from-literal=*) kv="\${a#--from-literal=}"; printf '%s' "\${kv#*=}" >"$REC/$name/\${kv%%=*}" ;;
    esac; done
    [[ " \${args[*]} " == *" --dry-run=client "* ]] && echo "kind: Secret" ;;
  "apply -f") cat >"$REC/applied" ;;
esac
exit 0
`;

function run(script: string, args: string[], env: Record<string, string> = {}): string {
  const bin = join(work, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "kubectl"), FAKE_KUBECTL);
  chmodSync(join(bin, "kubectl"), 0o755);
  return execFileSync("bash", [join(ROOT, "deploy/scripts", script), ...args], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, REC: work, TOKEN_B64: "", ...env },
    encoding: "utf8",
  });
}

test("create-secrets.sh: a 256-bit join token and a CA the console loads and signs agent certificates with", async () => {
  run("create-secrets.sh", []);
  const token = readFileSync(join(work, "trellis-join-token/token"), "utf8");
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  // The console's init container copies the Secret's files to <data>/ca/ (deploy/base/console/deployment.yaml).
  const data = join(work, "data");
  mkdirSync(join(data, "ca"), { recursive: true });
  cpSync(join(work, "trellis-ca"), join(data, "ca"), { recursive: true });
  const ca = await openCa(data);
  const issued = await issueClientCert(ca, "catalog");
  assert.match(issued.cert, /BEGIN CERTIFICATE/);
  assert.match(ca.cert.subject, /CN=Trellis mesh CA/);
  assert.ok(
    execFileSync("openssl", ["x509", "-noout", "-text"], { input: readFileSync(join(data, "ca/ca.crt")), encoding: "utf8" }).includes("CA:TRUE"),
  );
});

test("mesh-namespace.sh: labels the namespace for injection and copies the join token into it", () => {
  writeFileSync(join(work, "calls"), "");
  run("mesh-namespace.sh", ["shop"], { TOKEN_B64: Buffer.from("tok-123").toString("base64") });
  const calls = readFileSync(join(work, "calls"), "utf8");
  assert.match(calls, /label namespace shop trellis\.io\/inject=enabled --overwrite/);
  assert.equal(readFileSync(join(work, "trellis-join-token/token"), "utf8"), "tok-123");
  assert.match(readFileSync(join(work, "applied"), "utf8"), /kind: Secret/);
});
