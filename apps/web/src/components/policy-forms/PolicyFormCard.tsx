"use client";
/**
 * The shell every policy form shares: the form model (following the server until edited), a Form / YAML toggle that
 * edits the same value, validation with the protocol's schemas before anything is sent (errors inline, under the
 * field the schema names), the save through `traffic.update` (the change road: validate → diff → revision → push →
 * ACK), and that save's own sync state (revision, config version, applied on n/m instances).
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ServicePolicy } from "@trellis/protocol";
import { type ReactNode, useEffect, useState } from "react";
import { type PolicyFormDef, patchForServer } from "../../../shared/policy-forms/form-def.ts";
import { checkPatch, type FieldErrors, serverFieldErrors } from "../../../shared/policy-forms/issues.ts";
import { patchFromYaml, yamlOf } from "../../../shared/policy-forms/yaml-view.ts";
import { useTRPC } from "../../lib/trpc.ts";
import { AlertIcon, CheckIcon, CodeIcon, FormIcon } from "../icons/index.tsx";

export interface FormBodyProps<M> {
  model: M;
  set: (next: M) => void;
  errors: FieldErrors;
  versions: readonly string[];
  testId: string;
}

function SaveState({ testId, saved }: { testId: string; saved: { revision: number | null; configVersion: number } | null }) {
  const trpc = useTRPC();
  const version = saved?.configVersion ?? 0;
  const sync = useQuery(
    trpc.traffic.sync.queryOptions(
      { version },
      {
        enabled: saved !== null && saved.revision !== null,
        refetchInterval: (q) =>
          q.state.data && q.state.data.total > 0 && q.state.data.applied + q.state.data.nacked >= q.state.data.total ? false : 500,
      },
    ),
  );
  if (saved === null) return null;
  if (saved.revision === null)
    return (
      <span className="muted small" data-testid={`${testId}-sync`} data-state="unchanged">
        nothing changed
      </span>
    );
  const s = sync.data;
  const state = !s ? "applying" : s.nacked > 0 ? "nacked" : s.total > 0 && s.applied >= s.total ? "applied" : "applying";
  return (
    <span
      className={`badge ${state === "applied" ? "sync-synced" : state === "nacked" ? "sync-nacked" : "sync-stale"}`}
      data-testid={`${testId}-sync`}
      data-state={state}
      data-version={version}
      data-revision={saved.revision}
      title={s?.errors.join("\n") || undefined}
    >
      {state === "applied" ? <CheckIcon size={12} /> : state === "nacked" ? <AlertIcon size={12} /> : null} revision #{saved.revision} · v{version} ·{" "}
      {state === "applied"
        ? `applied on ${s?.applied}/${s?.total}`
        : state === "nacked"
          ? `rejected by ${s?.nacked}/${s?.total}`
          : `applying… ${s?.applied ?? 0}/${s?.total ?? "?"}`}
    </span>
  );
}

/** What the service page hands every policy form. */
export interface PolicyFormProps {
  service: string;
  policy: ServicePolicy;
  versions: readonly string[];
}

export function PolicyFormCard<M>(
  props: PolicyFormProps & {
    title: string;
    /** One line on what the policy does. */
    help: string;
    testId: string;
    def: PolicyFormDef<M>;
    body: (p: FormBodyProps<M>) => ReactNode;
  },
) {
  const { service, def, policy, versions, testId } = props;
  const trpc = useTRPC();
  const qc = useQueryClient();
  const update = useMutation(
    trpc.traffic.update.mutationOptions({ onSettled: () => qc.invalidateQueries({ queryKey: trpc.traffic.get.queryKey({ service }) }) }),
  );
  const serverPart: Record<string, unknown> = {};
  for (const k of def.keys) serverPart[k] = policy[k];
  const serverKey = JSON.stringify(serverPart);
  const [model, setModel] = useState<M>(() => def.fromPolicy(policy));
  const [dirty, setDirty] = useState(false);
  const [view, setView] = useState<"form" | "yaml">("form");
  const [yaml, setYaml] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<{ revision: number | null; configVersion: number } | null>(null);

  // Follows the server's value (by value: `policy` is a new object every poll) until the operator edits.
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by value on purpose
  useEffect(() => {
    if (dirty) return;
    setModel(def.fromPolicy(policy));
    if (view === "yaml") setYaml(yamlOf(def.toPatch(def.fromPolicy(policy))));
  }, [serverKey, dirty]);

  const edit = (next: M) => {
    setModel(next);
    setDirty(true);
    setErrors({});
  };
  const switchTo = (next: "form" | "yaml") => {
    if (next === view) return;
    if (next === "yaml") {
      setYaml(yamlOf(def.toPatch(model)));
      setView("yaml");
      setErrors({});
      return;
    }
    // Back to the form: the YAML must read as this form's policy first.
    const read = patchFromYaml(yaml, def.keys);
    if (!read.ok) return setErrors(read.errors);
    const check = checkPatch(read.patch, versions);
    if (!check.ok) return setErrors(check.errors);
    setModel(def.fromPolicy(check.policy));
    setErrors({});
    setView("form");
  };
  const save = () => {
    let patch = def.toPatch(model);
    if (view === "yaml") {
      const read = patchFromYaml(yaml, def.keys);
      if (!read.ok) return setErrors(read.errors);
      patch = read.patch;
    }
    const check = checkPatch(patch, versions);
    if (!check.ok) return setErrors(check.errors);
    setErrors({});
    update.mutate(
      { service, patch: patchForServer(def.keys, patch) },
      {
        onSuccess: (r) => {
          // The saved policy at once (not the last poll's): the form must not show the old value until the refetch.
          qc.setQueryData(trpc.traffic.get.queryKey({ service }), (old) => (old ? { ...old, policy: r.policy } : old));
          setSaved({ revision: r.revision?.id ?? null, configVersion: r.configVersion });
          setDirty(false);
        },
        onError: (e) => setErrors(serverFieldErrors(e.message, def.keys)),
      },
    );
  };

  const formError = errors[""];
  const yamlErrors = Object.entries(errors).filter(([k]) => k !== "");
  return (
    <section className="card policy-form" data-testid={testId} data-dirty={String(dirty)} data-view={view}>
      <div className="policy-form-head">
        <h3>{props.title}</h3>
        <div className="segmented small-seg" role="radiogroup" aria-label={`${props.title} view`}>
          {(["form", "yaml"] as const).map((v) => (
            // biome-ignore lint/a11y/useSemanticElements: a two-way view switch of buttons, announced as a radio group
            <button
              key={v}
              type="button"
              role="radio"
              aria-checked={view === v}
              className={view === v ? "active" : ""}
              data-testid={`${testId}-view-${v}`}
              onClick={() => switchTo(v)}
            >
              {v === "form" ? <FormIcon size={12} /> : <CodeIcon size={12} />} {v === "form" ? "Form" : "YAML"}
            </button>
          ))}
        </div>
      </div>
      <p className="muted small">{props.help}</p>
      {view === "form" ? (
        props.body({ model, set: edit, errors, versions, testId })
      ) : (
        <>
          <textarea
            className="mono yaml-editor"
            rows={8}
            spellCheck={false}
            value={yaml}
            aria-label={`${props.title} as YAML`}
            data-testid={`${testId}-yaml`}
            onChange={(e) => {
              setYaml(e.target.value);
              setDirty(true);
              setErrors({});
            }}
          />
          {yamlErrors.length > 0 && (
            <ul className="field-errors" data-testid={`${testId}-yaml-errors`}>
              {yamlErrors.map(([k, m]) => (
                <li key={k} className="error small">
                  <code>{k}</code>: {m}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <div className="policy-form-actions">
        <button type="button" className="btn primary" disabled={update.isPending} data-testid={`${testId}-save`} onClick={save}>
          {update.isPending ? "Saving…" : "Save"}
        </button>
        {dirty && (
          <button
            type="button"
            className="btn"
            data-testid={`${testId}-reset`}
            onClick={() => {
              setDirty(false);
              setErrors({});
              setModel(def.fromPolicy(policy));
              setYaml(yamlOf(def.toPatch(def.fromPolicy(policy))));
            }}
          >
            Discard
          </button>
        )}
        <SaveState testId={testId} saved={saved} />
      </div>
      {formError && (
        <p className="error small" data-testid={`${testId}-error`}>
          <AlertIcon size={12} /> {formError}
        </p>
      )}
    </section>
  );
}
