import { TraceView } from "../../../src/components/TraceView.tsx";

export default async function TracePage({ params }: { params: Promise<{ traceId: string }> }) {
  const { traceId } = await params;
  return (
    <div className="page">
      <TraceView traceId={decodeURIComponent(traceId)} />
    </div>
  );
}
