// The ESM build has the same API as the package's main entry (whose types ship as index.d.ts).
declare module "fast-json-patch/index.mjs" {
  export * from "fast-json-patch";
}
