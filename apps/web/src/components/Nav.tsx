"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useTRPC } from "../lib/trpc.ts";
import { UserMenu } from "./UserMenu.tsx";

const links = [
  { href: "/", label: "Graph", match: (p: string) => p === "/" },
  { href: "/services", label: "Services", match: (p: string) => p.startsWith("/services") },
  { href: "/agents", label: "Agents", match: (p: string) => p.startsWith("/agents") },
  { href: "/history", label: "History", match: (p: string) => p.startsWith("/history") },
  { href: "/traces", label: "Traces", match: (p: string) => p.startsWith("/traces") },
  { href: "/settings", label: "Settings", match: (p: string) => p.startsWith("/settings") },
  { href: "/audit", label: "Audit", match: (p: string) => p.startsWith("/audit"), admin: true },
];

export function Nav() {
  const pathname = usePathname() ?? "/";
  const trpc = useTRPC();
  const me = useQuery({ ...trpc.security.me.queryOptions(undefined, { staleTime: 60_000 }), enabled: pathname !== "/signin" });
  const isAdmin = me.data?.role === "admin";
  return (
    <header className="topbar">
      <Link href="/" className="brand" data-testid="brand">
        <span className="brand-mark" aria-hidden>
          ▦
        </span>
        Trellis
      </Link>
      <nav className="nav" data-testid="nav">
        {links
          .filter((l) => !("admin" in l) || isAdmin)
          .map((l) => (
            <Link key={l.href} href={l.href} className={l.match(pathname) ? "active" : ""} data-testid={`nav-${l.label.toLowerCase()}`}>
              {l.label}
            </Link>
          ))}
      </nav>
      {pathname !== "/signin" && <UserMenu />}
    </header>
  );
}
