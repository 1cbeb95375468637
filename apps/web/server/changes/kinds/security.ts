/**
 * Parts `mtls` ({mtls: mode}) and `authz` ({authorization: rules}) of a service, validated with the protocol's
 * mtlsModeSchema / authzRuleSchema. The mode is one field; each allow rule is a field of its own (`allow <rule>`), so
 * rolling back the addition of one rule removes that rule only, whatever rules were added since. A derived field,
 * `authorization` (an allow-list or every caller allowed), makes a rollback that would remove the last rule of a list
 * it did not create a conflict instead of silently opening the service.
 */
import { type AuthzRule, authzRuleSchema, type MtlsMode, mtlsModeSchema } from "@trellis/protocol";
import { authzRuleText, securityDiff } from "../../../shared/policy-diff.ts";
import { invalidConfig, notFound } from "../../errors.ts";
import type { Repositories } from "../../repositories/index.ts";
import { toRule } from "../../repositories/security-policies.ts";
import { type ChangeKind, type Fields, issuesText, type Scope } from "../kind.ts";
import { serviceOf } from "./traffic.ts";

export interface MtlsDoc {
  mtls: MtlsMode;
}
export interface AuthzDoc {
  authorization: AuthzRule[];
}

async function mtlsState(repos: Repositories, scope: Scope) {
  const service = serviceOf(scope);
  const state = await repos.security.mtlsOf(service);
  if (!state) throw notFound(`service: no service named ${service}`);
  return state;
}

export function mtlsKind(repos: Repositories): ChangeKind<MtlsDoc> {
  return {
    part: "mtls",
    read: async (scope) => ({ mtls: (await mtlsState(repos, scope)).mode }),
    async validate(candidate, scope) {
      await mtlsState(repos, scope);
      const mode = mtlsModeSchema.safeParse((candidate as Partial<MtlsDoc> | null)?.mtls);
      if (!mode.success) throw invalidConfig(issuesText(mode.error.issues.map((i) => ({ ...i, path: ["mtls", ...i.path] }))));
      return { mtls: mode.data };
    },
    diff: securityDiff,
    fields: (doc) => ({ mtls: doc.mtls }),
    fromFields: (fields: Fields) => ({ mtls: fields.mtls ?? "PERMISSIVE" }),
    write: async (scope, after, revision) => repos.security.commitMtls((await mtlsState(repos, scope)).serviceId, after.mtls, revision),
  };
}

const RULE_FIELD = "allow ";

export function authzKind(repos: Repositories): ChangeKind<AuthzDoc> {
  return {
    part: "authz",
    async read(scope) {
      await mtlsState(repos, scope);
      return { authorization: (await repos.security.authzRules(serviceOf(scope))).map(toRule) };
    },
    async validate(candidate, scope) {
      await mtlsState(repos, scope);
      const list = (candidate as Partial<AuthzDoc> | null)?.authorization;
      if (!Array.isArray(list)) throw invalidConfig("authorization: expected a list of rules");
      return {
        authorization: list.map((rule, i) => {
          const parsed = authzRuleSchema.safeParse(rule);
          if (!parsed.success) throw invalidConfig(issuesText(parsed.error.issues.map((x) => ({ ...x, path: ["authorization", i, ...x.path] }))));
          return toRule(parsed.data);
        }),
      };
    },
    diff: securityDiff,
    fields: (doc) => ({
      ...Object.fromEntries((doc.authorization ?? []).map((r) => [`${RULE_FIELD}${authzRuleText(r)}`, toRule(r)])),
      // Derived (not written back): whether the rules are an allow-list at all. No rule = every caller allowed.
      authorization: (doc.authorization ?? []).length > 0 ? "only the listed callers" : "every caller allowed",
    }),
    fromFields: (fields: Fields) => ({
      authorization: Object.entries(fields)
        .filter(([k]) => k.startsWith(RULE_FIELD))
        .map(([, rule]) => rule),
    }),
    async write(scope, after, revision) {
      const { serviceId } = await mtlsState(repos, scope);
      return repos.security.commitRules(serviceId, await repos.security.authzRules(serviceOf(scope)), after.authorization, revision);
    },
  };
}
