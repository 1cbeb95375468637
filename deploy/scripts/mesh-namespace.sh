#!/usr/bin/env bash
# Meshes a namespace: labels it trellis.io/inject=enabled (the webhook then injects every pod created there) and puts
# the join token in it as Secret trellis-join-token (a pod can mount only Secrets of its own namespace).
# Pods that already run are not changed: restart them (`kubectl -n NS rollout restart deployment`).
#   deploy/scripts/mesh-namespace.sh shop
set -euo pipefail
TARGET="${1:?usage: mesh-namespace.sh <namespace>}"
NS="${TRELLIS_NAMESPACE:-trellis-system}"
KUBECTL="${KUBECTL:-kubectl}"

# The token: the Secret if the operator created one, else the one the console generated on its volume.
if token="$("$KUBECTL" -n "$NS" get secret trellis-join-token -o jsonpath='{.data.token}' 2>/dev/null)" && [ -n "$token" ]; then
  token="$(printf '%s' "$token" | base64 -d)"
else
  token="$("$KUBECTL" -n "$NS" exec deploy/trellis-console -c console -- cat /var/lib/trellis/join-token)"
fi

"$KUBECTL" get namespace "$TARGET" >/dev/null 2>&1 || "$KUBECTL" create namespace "$TARGET"
"$KUBECTL" label namespace "$TARGET" trellis.io/inject=enabled --overwrite
"$KUBECTL" -n "$TARGET" create secret generic trellis-join-token --from-literal=token="$token" --dry-run=client -o yaml |
  "$KUBECTL" -n "$TARGET" apply -f -
echo "namespace $TARGET meshed: pods created from now on get the agent"
