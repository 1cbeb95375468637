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
  reactStrictMode: true,
};

export default nextConfig;
