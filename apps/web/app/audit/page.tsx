import { AuditPage } from "../../src/components/AuditPage.tsx";

export const metadata = { title: "Audit · Trellis" };

export default function Audit() {
  return (
    <div className="page">
      <AuditPage />
    </div>
  );
}
