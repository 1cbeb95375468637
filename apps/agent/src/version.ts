/** Reported in the `hello` frame. Kept in step with package.json by hand (no JSON import in the bundle). */
export const AGENT_VERSION = "0.1.0";
