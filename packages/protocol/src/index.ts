export * from "./names.ts";
export * from "./histogram.ts";
export * from "./config.ts";
export * from "./telemetry.ts";
export * from "./frames.ts";
export * from "./errors.ts";
export * from "./policy.ts";
export * from "./pem.ts";
