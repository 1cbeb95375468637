/**
 * Shared Playwright fixtures: every spec imports `test` and `expect` from here, so signing in to the console lives in
 * one place.
 */
import { test as base, expect } from "@playwright/test";

export const test = base;
export { expect };
