/**
 * The console API calls the benchmarks make, each in ONE function so that switching on a feature that lands with
 * another issue is a one-place change:
 *   - openSession(): sign-in (issue 4: the console is never open; the test admin signs in),
 *   - enableMtls(): set a service's mTLS mode STRICT (issue 4),
 *   - triggerSplitChange(): commit a traffic split change (issue 3).
 * Each detects whether the console supports it (tRPC answers NOT_FOUND for an unknown procedure) and says so.
 */
import { ConsoleSession, TrpcError } from "../../tests/support/console-api.ts";

/** Candidate procedure names, first match wins. Adjust when issues 3 / 4 land if they chose other names. */
export const MTLS_MUTATIONS = ["security.setMtls"];
export const SPLIT_MUTATIONS = ["services.setSplit", "splits.set", "traffic.setSplit"];

/** A console API session: signed in as the test admin (startConsole sets TRELLIS_ADMIN_PASSWORD), the one place. */
export async function openSession(baseUrl) {
  return ConsoleSession.signIn(baseUrl);
}

function isMissingProcedure(err) {
  if (!(err instanceof TrpcError)) return false;
  const text = JSON.stringify(err.body ?? "");
  return err.status === 404 || /NOT_FOUND|No "mutation"-procedure|No procedure/i.test(text);
}

async function firstMutation(session, names, input) {
  for (const name of names) {
    try {
      const result = await session.mutate(name, input);
      return { available: true, procedure: name, result };
    } catch (err) {
      if (isMissingProcedure(err)) continue;
      return { available: false, procedure: name, reason: `${name} failed: ${String(err.message ?? err).slice(0, 300)}` };
    }
  }
  return { available: false, reason: `none of ${names.join(", ")} exists on this console` };
}

/** Sets `service`'s mTLS mode STRICT through the console API. {available:false, reason} until issue 4 is merged. */
export async function enableMtls(session, service) {
  const r = await firstMutation(session, MTLS_MUTATIONS, { name: service, mode: "STRICT" });
  if (!r.available) r.label = "mTLS: not yet available";
  return r;
}

/**
 * Commits a traffic split change for `service` (weights alternate each call so every call is a real change).
 * {available:false} until issue 3 is merged; the control-plane bench then measures a topology change instead.
 */
let flip = 0;
export async function triggerSplitChange(session, service, versions) {
  const w = flip++ % 2 ? 90 : 10;
  const split = versions.length >= 2 ? [{ version: versions[0], weight: w }, { version: versions[1], weight: 100 - w }] : [{ version: versions[0], weight: 100 }];
  return firstMutation(session, SPLIT_MUTATIONS, { service, split });
}
