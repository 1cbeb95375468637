import "@fontsource-variable/inter";
import "./globals.css";
import type { Metadata } from "next";
import { Nav } from "../src/components/Nav.tsx";
import { Providers } from "../src/components/Providers.tsx";

export const metadata: Metadata = {
  title: "Trellis",
  description: "A service mesh you can see",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>
          <Nav />
          <main className="main">{children}</main>
        </Providers>
      </body>
    </html>
  );
}
