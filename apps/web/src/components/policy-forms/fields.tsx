"use client";
/** Labelled inputs of the policy forms, each with its inline error (the schema's message for that field). */
import type { ReactNode } from "react";

export function FieldError({ error, testId }: { error?: string; testId: string }) {
  if (!error) return null;
  return (
    <span className="field-error" data-testid={`${testId}-error`} role="alert">
      {error}
    </span>
  );
}

export function NumberField(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  testId: string;
  unit?: string;
  placeholder?: string;
}) {
  return (
    <label className={`field${props.error ? " invalid" : ""}`}>
      <span className="field-label">{props.label}</span>
      <span className="field-input">
        <input
          inputMode="decimal"
          value={props.value}
          placeholder={props.placeholder ?? "default"}
          aria-invalid={props.error ? true : undefined}
          data-testid={props.testId}
          onChange={(e) => props.onChange(e.target.value)}
        />
        {props.unit && <span className="unit">{props.unit}</span>}
      </span>
      <FieldError error={props.error} testId={props.testId} />
    </label>
  );
}

export function TextField(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  testId: string;
  placeholder?: string;
}) {
  return (
    <label className={`field${props.error ? " invalid" : ""}`}>
      <span className="field-label">{props.label}</span>
      <input
        value={props.value}
        placeholder={props.placeholder}
        aria-invalid={props.error ? true : undefined}
        data-testid={props.testId}
        onChange={(e) => props.onChange(e.target.value)}
      />
      <FieldError error={props.error} testId={props.testId} />
    </label>
  );
}

export function Toggle(props: { label: ReactNode; checked: boolean; onChange: (v: boolean) => void; testId: string }) {
  return (
    <label className="toggle">
      <input type="checkbox" checked={props.checked} data-testid={props.testId} onChange={(e) => props.onChange(e.target.checked)} />
      <span>{props.label}</span>
    </label>
  );
}

export function SelectField<T extends string>(props: {
  label: string;
  value: T;
  options: readonly { value: T; label: string }[];
  onChange: (v: T) => void;
  error?: string;
  testId: string;
}) {
  return (
    <label className={`field${props.error ? " invalid" : ""}`}>
      <span className="field-label">{props.label}</span>
      <select value={props.value} data-testid={props.testId} onChange={(e) => props.onChange(e.target.value as T)}>
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <FieldError error={props.error} testId={props.testId} />
    </label>
  );
}
