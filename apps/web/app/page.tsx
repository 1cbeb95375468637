import { ServiceGraph } from "../src/components/ServiceGraph.tsx";

export default function GraphPage() {
  return (
    <div className="graph-page">
      <ServiceGraph />
    </div>
  );
}
