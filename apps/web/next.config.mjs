import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** @type {import('next').NextConfig} */
const nextConfig = {
  // The protocol package ships TypeScript sources.
  transpilePackages: ["@trellis/protocol"],
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
  devIndicators: false,
  poweredByHeader: false,
  // The console logs JSON lines only; Next's per-request text lines would break that.
  logging: { incomingRequests: false },
  reactStrictMode: true,
};

export default nextConfig;
