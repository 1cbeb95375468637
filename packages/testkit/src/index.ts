/**
 * @trellis/testkit — one kit for every test, the bench and `npm start`:
 * - process groups: spawn detached, capture lines, wait for a JSON log line, stop the whole group (process.ts,
 *   also importable alone as `@trellis/testkit/process`, Node builtins only);
 * - the real built console and agent on port 0 with temp data dirs (mesh.ts);
 * - a signed-in console API session (console-session.ts);
 * - one fake agent speaking the control protocol through @trellis/protocol (fake-agent.ts), with a CSR of its own (csr.ts);
 * - bounded polling and ports (wait.ts);
 * - how chromium is launched (browser.ts);
 * - "pods" as Linux network namespaces with their own addresses, for capture mode (netns.ts, also importable alone as
 *   `@trellis/testkit/netns`, Node builtins only);
 * - one demo-shop service instance behind its own agent (shop.ts);
 * - a throwaway PostgreSQL server (postgres.ts) and the databases the console's tests run against (databases.ts).
 */
export * from "./browser.ts";
export * from "./console-session.ts";
export * from "./console-trust.ts";
export * from "./csr.ts";
export * from "./databases.ts";
export * from "./fake-agent.ts";
export * from "./mesh.ts";
export * from "./netns.ts";
export * from "./postgres.ts";
export * from "./process.ts";
export * from "./shop.ts";
export * from "./wait.ts";
