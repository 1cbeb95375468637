/**
 * The guided CA rotation in Settings against the real console and demo shop (npm start): start, then advance through
 * the three phases as the per-agent table fills in, until the new root is the only one. The shop's calls keep
 * succeeding throughout (no error on any edge into a meshed service).
 */
import { expect, test } from "./fixtures.ts";

interface View {
  phase: string;
  active: { root: string };
  agents: { instanceId: string }[];
}

test("Settings → Mesh CA: rotate the mesh CA phase by phase with every agent's progress shown", async ({ page }) => {
  test.setTimeout(180_000);
  const view = async (): Promise<View> => {
    const res = await page.request.get("/api/trpc/ca.rotation");
    return ((await res.json()) as { result: { data: View } }).result.data;
  };
  // The shop's agents are connected before the rotation starts.
  await expect.poll(async () => (await view()).agents.length, { timeout: 60_000 }).toBeGreaterThan(3);
  const before = await view();
  await page.goto("/settings");
  const card = page.getByTestId("ca-rotation");
  await expect(card.getByTestId("ca-phase")).toHaveText(/No rotation in progress/);
  await card.getByTestId("ca-start").click();
  await expect(card.getByTestId("ca-phase")).toHaveText(/Phase 1 of 3/);
  await expect(card.getByTestId("ca-agent-row").first()).toBeVisible();
  for (const next of [/Phase 2 of 3/, /Phase 3 of 3/, /No rotation in progress/]) {
    const advance = card.getByTestId("ca-advance");
    await expect(advance).toBeEnabled({ timeout: 60_000 });
    await advance.click();
    await expect(card.getByTestId("ca-phase")).toHaveText(next);
  }
  const after = await view();
  expect(after.phase).toBe("idle");
  expect(after.active.root).not.toBe(before.active.root);
});
