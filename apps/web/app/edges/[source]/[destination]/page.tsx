import { EdgeDetail } from "../../../../src/components/EdgeDetail.tsx";

export default async function EdgePage({ params }: { params: Promise<{ source: string; destination: string }> }) {
  const { source, destination } = await params;
  return (
    <div className="page">
      <EdgeDetail source={decodeURIComponent(source)} destination={decodeURIComponent(destination)} />
    </div>
  );
}
