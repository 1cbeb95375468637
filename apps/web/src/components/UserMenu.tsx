"use client";
/** Top bar: who is signed in, and sign-out (a same-origin form POST). */
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../lib/trpc.ts";

export function UserMenu() {
  const trpc = useTRPC();
  const me = useQuery(trpc.security.me.queryOptions(undefined, { staleTime: 60_000 }));
  if (!me.data) return null;
  return (
    <form method="post" action="/api/auth/signout" className="user-menu" data-testid="user-menu">
      <span className="small" data-testid="user-name">
        {me.data.username} <span className="chip">{me.data.role}</span>
      </span>
      <button type="submit" data-testid="signout">
        Sign out
      </button>
    </form>
  );
}
