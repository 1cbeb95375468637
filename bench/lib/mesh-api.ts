/**
 * The console API calls the benchmarks make, each in one function: sign in, set a service's mTLS mode, commit a
 * traffic split change. They fail loudly: a benchmark that silently measured something else would be worse than none.
 */
import { ConsoleSession } from "@trellis/testkit";

/** A console API session, signed in as the test admin (startConsole sets TRELLIS_ADMIN_PASSWORD). */
export async function openSession(baseUrl: string): Promise<ConsoleSession> {
  return ConsoleSession.signIn(baseUrl);
}

/** Sets `service`'s mTLS mode STRICT through the console API (a committed, pushed config change). */
export async function enableMtls(session: ConsoleSession, service: string): Promise<{ procedure: string }> {
  await session.mutate("security.setMtls", { name: service, mode: "STRICT" });
  return { procedure: "security.setMtls" };
}

/** Commits a traffic split change for `service`; the weights alternate so that every call is a real change. */
let flip = 0;
export async function triggerSplitChange(session: ConsoleSession, service: string, versions: [string, string]): Promise<void> {
  const w = flip++ % 2 ? 90 : 10;
  const split = [
    { version: versions[0], weight: w },
    { version: versions[1], weight: 100 - w },
  ];
  await session.mutate("traffic.setSplit", { service, split });
}
