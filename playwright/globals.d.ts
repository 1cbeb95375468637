// The graph's test probe on `window`, as the console declares it.
import type {} from "../apps/web/src/lib/graph-probe.ts";
