import { ServiceDetail } from "../../../src/components/ServiceDetail.tsx";

export default async function ServicePage({ params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  return (
    <div className="page">
      <ServiceDetail name={decodeURIComponent(name)} />
    </div>
  );
}
