/**
 * Part 3 — the console's graph page in headless Debian chromium: first render (navigation start → first live frame
 * applied and painted, measured inside the page) and the cost of applying each following one-second frame
 * (window.__trellisGraph.applies, recorded by ServiceGraph.tsx around the diff application).
 */
import { TEST_ADMIN_PASSWORD } from "@trellis/testkit";
import { CHROMIUM } from "@trellis/testkit/browser";
import { chromium, type Page } from "playwright";
import { LiveFeeder } from "./lib/live-feeder.ts";
import type { ControlPlaneConfig, GraphResult, GraphSource, Log } from "./lib/results.ts";

/** Signs the page in (the test admin: startConsole sets TRELLIS_ADMIN_PASSWORD) before opening the graph, the one place. */
async function signIn(page: Page, baseUrl: string): Promise<void> {
  const res = await page.request.post(`${baseUrl}/api/auth/signin`, { data: { username: "admin", password: TEST_ADMIN_PASSWORD } });
  if (res.status() !== 200) throw new Error(`console sign-in failed: ${res.status()} ${await res.text()}`);
}

/**
 * `source`: "console" (the page's /ws/live goes to the real console, fed by simulated agents) or "feeder" (the page
 * is served by the real console, its /ws/live socket is answered by a LiveFeeder with frames computed by the
 * console's own LiveView, one a second).
 */
export async function measureGraph(
  baseUrl: string,
  services: number,
  cfg: Pick<ControlPlaneConfig, "graphUpdates">,
  log: Log,
  source: GraphSource = "console",
): Promise<GraphResult> {
  const browser = await chromium.launch(CHROMIUM);
  const timers: NodeJS.Timeout[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await signIn(page, baseUrl);
    if (source === "feeder") {
      const feeder = new LiveFeeder(services);
      feeder.frame();
      await page.routeWebSocket(/\/ws\/live$/, (ws) => {
        ws.send(feeder.frame());
        const tick = () => {
          const next = (Math.floor(Date.now() / 1000) + 1) * 1000 + 250;
          timers.push(
            setTimeout(() => {
              try {
                ws.send(feeder.frame());
              } catch {
                return;
              }
              tick();
            }, next - Date.now()),
          );
        };
        tick();
      });
    }
    await page.goto(`${baseUrl}/`, { waitUntil: "commit", timeout: 60_000 });
    // First render: the first frame applied, then the next animation frame (cytoscape draws in its own rAF).
    const first = await page.waitForFunction(
      () => {
        const g = window.__trellisGraph;
        const a = g?.applies?.[0];
        if (!g || !a || a.toFrameMs === undefined) return false;
        return { at: performance.now(), elements: g.elementCount(), nodes: g.cy.nodes().length, edges: g.cy.edges().length, firstApply: a };
      },
      undefined,
      { polling: "raf", timeout: 120_000 },
    );
    const f = await first.jsonValue();
    if (!f) throw new Error("graph: waitForFunction resolved without a first frame"); // it resolves on a truthy value only
    // performance.now() counts from navigation start; the first frame's paint ended toFrameMs after its apply began.
    const firstRenderMs = f.at;
    log(
      `graph ${services} services: first render ${firstRenderMs.toFixed(0)} ms (${f.nodes} nodes, ${f.edges} edges; first apply ${f.firstApply.ms.toFixed(0)} ms)`,
    );
    // One-second updates: wait for more frames, keep those that did not re-run the layout.
    const want = cfg.graphUpdates + 1;
    await page.waitForFunction((n) => (window.__trellisGraph?.applies?.filter((a) => a.toFrameMs !== undefined).length ?? 0) >= n, want, {
      polling: 200,
      timeout: want * 4000 + 20_000,
    });
    const applies = (await page.evaluate(() => window.__trellisGraph?.applies ?? [])).slice(1).filter((a) => a.toFrameMs !== undefined);
    const updates = applies.filter((a) => !a.layout);
    const ms = updates.map((a) => a.ms).sort((a, b) => a - b);
    const toFrame = updates.map((a) => a.toFrameMs ?? Number.NaN).sort((a, b) => a - b);
    const med = (v: number[]) => (v.length ? v[(v.length - 1) >> 1] : null);
    const res: GraphResult = {
      services,
      source,
      nodes: f.nodes,
      edges: f.edges,
      firstRenderMs,
      firstApplyMs: f.firstApply.ms,
      updates: updates.length,
      relayouts: applies.length - updates.length,
      updateApplyMs: { median: med(ms), min: ms[0] ?? null, max: ms.at(-1) ?? null },
      updateToFrameMs: { median: med(toFrame), min: toFrame[0] ?? null, max: toFrame.at(-1) ?? null },
      elementUpdatesPerFrame: med(updates.map((a) => a.updates).sort((a, b) => a - b)),
    };
    log(
      `graph ${services}: update apply median ${res.updateApplyMs.median?.toFixed(1)} ms (to next frame ${res.updateToFrameMs.median?.toFixed(1)} ms) over ${updates.length} frames, ${res.elementUpdatesPerFrame} element updates each`,
    );
    return res;
  } finally {
    for (const t of timers) clearTimeout(t);
    await browser.close();
  }
}
