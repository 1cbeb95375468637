import { SettingsPanel } from "../../src/components/SettingsPanel.tsx";

export default function SettingsPage() {
  return <SettingsPanel />;
}
