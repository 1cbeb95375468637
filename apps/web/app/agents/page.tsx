import { AgentsTable } from "../../src/components/AgentsTable.tsx";

export const metadata = { title: "Agents · Trellis" };

export default function AgentsPage() {
  return (
    <div className="page">
      <h1>Agents</h1>
      <AgentsTable />
    </div>
  );
}
