import { Suspense } from "react";
import { TracesPage } from "../../src/components/TracesPage.tsx";

export default function Traces() {
  return (
    <div className="page">
      <Suspense fallback={<p className="muted">Loading…</p>}>
        <TracesPage />
      </Suspense>
    </div>
  );
}
