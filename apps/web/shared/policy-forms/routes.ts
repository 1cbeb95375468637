/**
 * Pure form model of a service's routes: each route's path (exact / prefix / regex), method, header and query
 * matches, and where it goes (one version, or a split of its own). Rows left empty in the form are dropped.
 */
import type { RouteRule } from "@trellis/protocol";
import type { PolicyFormDef } from "./form-def.ts";
import { numberOrUnset, textOf } from "./numbers.ts";

export const PATH_KINDS = ["any", "prefix", "exact", "regex"] as const;
export type PathKind = (typeof PATH_KINDS)[number];
const PATH_KEY = { prefix: "pathPrefix", exact: "pathExact", regex: "pathRegex" } as const;

export interface NameValue {
  name: string;
  value: string;
}

export interface RouteModel {
  name: string;
  pathKind: PathKind;
  path: string;
  /** "" = any method. */
  method: string;
  headers: NameValue[];
  query: NameValue[];
  target: "version" | "split";
  version: string;
  split: { version: string; weight: string }[];
}

export interface RoutesModel {
  routes: RouteModel[];
}

export function emptyRoute(versions: readonly string[]): RouteModel {
  return {
    name: "",
    pathKind: "any",
    path: "",
    method: "",
    headers: [],
    query: [],
    target: "version",
    version: versions[versions.length - 1] ?? "",
    split: versions.map((v, i) => ({ version: v, weight: i === 0 ? "100" : "0" })),
  };
}

function routeModel(r: RouteRule): RouteModel {
  const m = r.match;
  const pathKind: PathKind =
    m.pathExact !== undefined ? "exact" : m.pathRegex !== undefined ? "regex" : m.pathPrefix !== undefined ? "prefix" : "any";
  return {
    name: r.name ?? "",
    pathKind,
    path: m.pathExact ?? m.pathRegex ?? m.pathPrefix ?? "",
    method: m.method ?? "",
    headers: (m.headers ?? []).map((h) => ({ name: h.name, value: h.value })),
    query: (m.query ?? []).map((q) => ({ name: q.name, value: q.value })),
    target: r.split !== undefined ? "split" : "version",
    version: r.version ?? "",
    split: (r.split ?? []).map((e) => ({ version: e.version, weight: textOf(e.weight) })),
  };
}

const filled = (rows: NameValue[]) => rows.filter((h) => h.name !== "" || h.value !== "");

/** The route as the schema reads it; field paths stay those of the schema (`match.pathRegex`, `split.1.weight`). */
export function routeRule(m: RouteModel): Record<string, unknown> {
  const match: Record<string, unknown> = {};
  if (m.pathKind !== "any") match[PATH_KEY[m.pathKind]] = m.path;
  if (m.method !== "") match.method = m.method;
  const headers = filled(m.headers);
  if (headers.length > 0) match.headers = headers;
  const query = filled(m.query);
  if (query.length > 0) match.query = query;
  const rule: Record<string, unknown> = {};
  if (m.name.trim() !== "") rule.name = m.name.trim();
  rule.match = match;
  if (m.target === "version") rule.version = m.version;
  else rule.split = m.split.map((e) => ({ version: e.version, weight: numberOrUnset(e.weight) }));
  return rule;
}

export const routesForm: PolicyFormDef<RoutesModel> = {
  keys: ["routes"],
  fromPolicy: (p) => ({ routes: (p.routes ?? []).map(routeModel) }),
  toPatch: (m) => ({ routes: m.routes.length === 0 ? undefined : m.routes.map(routeRule) }),
};

/** The error key of a route's path field: whichever path kind it uses. */
export function pathErrorKey(kind: PathKind): string {
  return kind === "any" ? "match" : `match.${PATH_KEY[kind]}`;
}
