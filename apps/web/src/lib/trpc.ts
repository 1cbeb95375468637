"use client";
/** Browser tRPC client (plain JSON, no transformer) bound to TanStack Query. */
import { createTRPCContext } from "@trpc/tanstack-react-query";
import type { AppRouter } from "../../server/root.ts";

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();
