/** Timings and limits of the agent control plane, and the close codes it ends agent sockets with. */

export const CLOSE_BAD_TOKEN = 4001;
export const CLOSE_PROTOCOL = 4002;
export const CLOSE_REVOKED = 4003;
/** The join token is valid but does not cover the service the agent claims (no certificate is issued). */
export const CLOSE_TOKEN_SCOPE = 4004;
export const CLOSE_HELLO_TIMEOUT = 4008;
export const CLOSE_REPLACED = 4009;

export interface ControlPlaneOptions {
  helloTimeoutMs: number;
  heartbeatMs: number;
  /** A committed config change is pushed after this debounce. */
  debounceMs: number;
  /** Agents joining or leaving are pushed once no other did for this long… */
  membershipQuietMs: number;
  /** …or at the latest this long after the first of them (a fleet joining at once: a few versions, not one each). */
  membershipMaxMs: number;
  maxInvalidFrames: number;
  restartGraceMs: number;
  /** An un-acked snapshot older than this no longer blocks sending a newer one. */
  ackTimeoutMs: number;
  touchIntervalMs: number;
  maxPayloadBytes: number;
  /** How long a STRICT <-> DISABLE change waits in PERMISSIVE for every agent to ack before it completes. */
  mtlsStageTimeoutMs: number;
  /** How often changed sync states are written to the database. */
  syncFlushMs: number;
}

export const defaultControlPlaneOptions: ControlPlaneOptions = {
  helloTimeoutMs: 10_000,
  heartbeatMs: 5_000,
  debounceMs: 30,
  membershipQuietMs: 100,
  membershipMaxMs: 1000,
  maxInvalidFrames: 20,
  restartGraceMs: 30_000,
  ackTimeoutMs: 15_000,
  touchIntervalMs: 5_000,
  maxPayloadBytes: 8 * 1024 * 1024,
  mtlsStageTimeoutMs: 5_000,
  syncFlushMs: 200,
};
