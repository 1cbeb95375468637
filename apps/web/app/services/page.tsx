import { ServicesOverview } from "../../src/components/ServicesOverview.tsx";

export const metadata = { title: "Services · Trellis" };

export default function ServicesPage() {
  return (
    <div className="page">
      <h1>Services</h1>
      <ServicesOverview />
    </div>
  );
}
