export * from "./config.ts";
export * from "./errors.ts";
export * from "./frames.ts";
export * from "./histogram.ts";
export * from "./names.ts";
export * from "./pem.ts";
export * from "./policy.ts";
export * from "./telemetry.ts";
