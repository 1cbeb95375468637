#!/usr/bin/env bash
# Creates the console's Secrets in trellis-system, once, before or after `kubectl apply -k deploy/`:
#   trellis-join-token  key "token": the join token agents present (random, 256 bits)
#   trellis-ca          keys "ca.crt", "ca.key": the mesh CA (ECDSA P-256, PKCS#8 key, 10 years), which the console's
#                       init container copies onto its volume
# Both are optional: without them the console creates its own on its volume at first start (lost with the volume).
# Existing Secrets are kept (re-running changes nothing). Needs openssl and kubectl; nothing is written to the repo.
set -euo pipefail
NS="${TRELLIS_NAMESPACE:-trellis-system}"
TRUST_DOMAIN="${TRELLIS_TRUST_DOMAIN:-trellis.local}"
KUBECTL="${KUBECTL:-kubectl}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
umask 077

exists() { "$KUBECTL" -n "$NS" get secret "$1" >/dev/null 2>&1; }

"$KUBECTL" get namespace "$NS" >/dev/null 2>&1 || "$KUBECTL" create namespace "$NS"

if exists trellis-join-token; then
  echo "trellis-join-token exists: kept"
else
  openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n' >"$work/token"
  "$KUBECTL" -n "$NS" create secret generic trellis-join-token --from-file=token="$work/token"
fi

if exists trellis-ca; then
  echo "trellis-ca exists: kept"
else
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/ca.key"
  openssl req -x509 -new -key "$work/ca.key" -sha256 -days 3650 -subj "/CN=Trellis mesh CA/O=$TRUST_DOMAIN" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out "$work/ca.crt"
  "$KUBECTL" -n "$NS" create secret generic trellis-ca --from-file=ca.crt="$work/ca.crt" --from-file=ca.key="$work/ca.key"
fi
