// undici's Pool class on its own: importing the package index also loads fetch, WebSocket, caches and more
// (~7 MB RSS) that the agent never uses. The class is the same one `import { Pool } from "undici"` returns.
declare module "undici/lib/dispatcher/pool.js" {
  import type { Pool } from "undici";

  const PoolClass: typeof Pool;
  export default PoolClass;
}
