"use client";
/**
 * Routes: evaluated in order ahead of the default split; the first route whose conditions all hold (path exact /
 * prefix / regex, method, headers, query) sends the call to one version or to a split of its own.
 */
import { errorsUnder } from "../../../shared/policy-forms/issues.ts";
import {
  emptyRoute,
  type NameValue,
  PATH_KINDS,
  type PathKind,
  pathErrorKey,
  type RouteModel,
  type RoutesModel,
  routesForm,
} from "../../../shared/policy-forms/routes.ts";
import { PlusIcon, TrashIcon } from "../icons/index.tsx";
import { FieldError, NumberField, SelectField, TextField } from "./fields.tsx";
import { PolicyFormCard, type PolicyFormProps } from "./PolicyFormCard.tsx";

const METHODS = ["", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
const PATH_LABEL: Record<PathKind, string> = { any: "any path", prefix: "path prefix", exact: "exact path", regex: "path regex" };

function Pairs(props: {
  label: string;
  rows: NameValue[];
  onChange: (rows: NameValue[]) => void;
  errors: Record<string, string>;
  /** Error key prefix of these rows (`match.headers`). */
  at: string;
  testId: string;
}) {
  const { rows, onChange, errors, at, testId } = props;
  return (
    <div className="pairs">
      <span className="field-label">{props.label}</span>
      {rows.map((row, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their position
        <div className="pair" key={i}>
          <TextField
            label="name"
            value={row.name}
            error={errors[`${at}.${i}.name`]}
            testId={`${testId}-${i}-name`}
            onChange={(name) => onChange(rows.map((r, j) => (j === i ? { ...r, name } : r)))}
          />
          <TextField
            label="value"
            value={row.value}
            error={errors[`${at}.${i}.value`]}
            testId={`${testId}-${i}-value`}
            onChange={(value) => onChange(rows.map((r, j) => (j === i ? { ...r, value } : r)))}
          />
          <button
            type="button"
            className="btn icon-btn"
            title="Remove"
            aria-label={`Remove ${props.label} ${i + 1}`}
            onClick={() => onChange(rows.filter((_, j) => j !== i))}
          >
            <TrashIcon size={12} />
          </button>
        </div>
      ))}
      <button type="button" className="btn small-btn" data-testid={`${testId}-add`} onClick={() => onChange([...rows, { name: "", value: "" }])}>
        <PlusIcon size={12} /> {props.label.replace(/s$/, "")}
      </button>
      <FieldError error={errors[at]} testId={testId} />
    </div>
  );
}

function RouteEditor(props: {
  route: RouteModel;
  index: number;
  count: number;
  versions: readonly string[];
  errors: Record<string, string>;
  testId: string;
  onChange: (r: RouteModel) => void;
  onRemove: () => void;
  onMove: (delta: -1 | 1) => void;
}) {
  const { route: r, versions, errors, testId, onChange } = props;
  const pathError = errors[pathErrorKey(r.pathKind)] ?? errors.match;
  return (
    <fieldset className="route-editor" data-testid={testId}>
      <legend>
        Route {props.index + 1}
        <span className="route-tools">
          <button type="button" className="btn icon-btn" disabled={props.index === 0} title="Move up" onClick={() => props.onMove(-1)}>
            ↑
          </button>
          <button type="button" className="btn icon-btn" disabled={props.index === props.count - 1} title="Move down" onClick={() => props.onMove(1)}>
            ↓
          </button>
          <button type="button" className="btn icon-btn" title="Remove route" data-testid={`${testId}-remove`} onClick={props.onRemove}>
            <TrashIcon size={12} />
          </button>
        </span>
      </legend>
      <div className="field-row">
        <TextField
          label="Name"
          value={r.name}
          placeholder="optional"
          error={errors.name}
          testId={`${testId}-name`}
          onChange={(name) => onChange({ ...r, name })}
        />
        <SelectField<PathKind>
          label="Path"
          value={r.pathKind}
          options={PATH_KINDS.map((k) => ({ value: k, label: PATH_LABEL[k] }))}
          testId={`${testId}-pathKind`}
          onChange={(pathKind) => onChange({ ...r, pathKind })}
        />
        {r.pathKind !== "any" && (
          <TextField
            label={PATH_LABEL[r.pathKind]}
            value={r.path}
            placeholder={r.pathKind === "regex" ? "/orders/[0-9]+" : "/api"}
            error={pathError}
            testId={`${testId}-path`}
            onChange={(path) => onChange({ ...r, path })}
          />
        )}
        <SelectField<string>
          label="Method"
          value={r.method}
          options={METHODS.map((m) => ({ value: m, label: m === "" ? "any" : m }))}
          error={errors["match.method"]}
          testId={`${testId}-method`}
          onChange={(method) => onChange({ ...r, method })}
        />
      </div>
      <div className="field-row">
        <Pairs
          label="Headers"
          rows={r.headers}
          at="match.headers"
          errors={errors}
          testId={`${testId}-header`}
          onChange={(headers) => onChange({ ...r, headers })}
        />
        <Pairs
          label="Query parameters"
          rows={r.query}
          at="match.query"
          errors={errors}
          testId={`${testId}-query`}
          onChange={(query) => onChange({ ...r, query })}
        />
      </div>
      <div className="field-row">
        <SelectField<"version" | "split">
          label="Send to"
          value={r.target}
          options={[
            { value: "version", label: "one version" },
            { value: "split", label: "a split" },
          ]}
          testId={`${testId}-target`}
          onChange={(target) =>
            onChange({
              ...r,
              target,
              split: r.split.length > 0 ? r.split : versions.map((v, i) => ({ version: v, weight: i === 0 ? "100" : "0" })),
            })
          }
        />
        {r.target === "version" ? (
          <SelectField<string>
            label="Version"
            value={r.version}
            options={[...new Set([...versions, r.version])].filter((v) => v !== "").map((v) => ({ value: v, label: v }))}
            error={errors.version}
            testId={`${testId}-version`}
            onChange={(version) => onChange({ ...r, version })}
          />
        ) : (
          r.split.map((e, i) => (
            <NumberField
              key={e.version}
              label={`${e.version} weight`}
              unit="%"
              value={e.weight}
              error={errors[`split.${i}.weight`] ?? errors[`split.${i}.version`]}
              testId={`${testId}-weight-${e.version}`}
              onChange={(weight) => onChange({ ...r, split: r.split.map((x, j) => (j === i ? { ...x, weight } : x)) })}
            />
          ))
        )}
      </div>
      <FieldError error={errors.split} testId={`${testId}-split`} />
      <FieldError error={errors[""]} testId={`${testId}-rule`} />
    </fieldset>
  );
}

export function RoutesForm(props: PolicyFormProps) {
  return (
    <PolicyFormCard<RoutesModel>
      {...props}
      title="Routes"
      help="Tried in order before the split: the first route whose conditions all hold decides where the call goes."
      testId="routes-form"
      def={routesForm}
      body={({ model, set, errors, versions, testId }) => (
        <>
          {model.routes.length === 0 && <p className="muted small">No routes: every call follows the split.</p>}
          {model.routes.map((r, i) => (
            <RouteEditor
              // biome-ignore lint/suspicious/noArrayIndexKey: a route's identity is its position (the order decides)
              key={i}
              route={r}
              index={i}
              count={model.routes.length}
              versions={versions}
              errors={errorsUnder(errors, `routes.${i}`)}
              testId={`${testId}-route-${i}`}
              onChange={(next) => set({ routes: model.routes.map((x, j) => (j === i ? next : x)) })}
              onRemove={() => set({ routes: model.routes.filter((_, j) => j !== i) })}
              onMove={(d) => {
                const routes = [...model.routes];
                const [moved] = routes.splice(i, 1);
                routes.splice(i + d, 0, moved);
                set({ routes });
              }}
            />
          ))}
          <button
            type="button"
            className="btn"
            data-testid={`${testId}-add`}
            onClick={() => set({ routes: [...model.routes, emptyRoute(versions)] })}
          >
            <PlusIcon size={12} /> Add route
          </button>
          <FieldError error={errors.routes} testId={`${testId}-routes`} />
        </>
      )}
    />
  );
}
