import { HistoryPage } from "../../src/components/HistoryPage.tsx";

export const metadata = { title: "History · Trellis" };

export default async function History({ searchParams }: { searchParams: Promise<{ service?: string }> }) {
  const { service } = await searchParams;
  return (
    <div className="page">
      <HistoryPage service={service || undefined} />
    </div>
  );
}
