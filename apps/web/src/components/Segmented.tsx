"use client";
/** A segmented control: one button per option, announced as a radio group (the mTLS mode pickers). */
import type { ReactNode } from "react";

export function Segmented<T extends string>(props: {
  label: string;
  options: readonly T[];
  value: string;
  disabled?: boolean;
  testIdPrefix: string;
  title?: (option: T) => string;
  render?: (option: T) => ReactNode;
  onChange: (option: T) => void;
}) {
  return (
    <div className="segmented" role="radiogroup" aria-label={props.label}>
      {props.options.map((o) => (
        // biome-ignore lint/a11y/useSemanticElements: a segmented control of buttons, announced as a radio group
        <button
          key={o}
          type="button"
          role="radio"
          aria-checked={props.value === o}
          className={props.value === o ? "active" : ""}
          title={props.title?.(o)}
          disabled={props.disabled}
          data-testid={`${props.testIdPrefix}${o.toLowerCase()}`}
          onClick={() => props.onChange(o)}
        >
          {props.render ? props.render(o) : o}
        </button>
      ))}
    </div>
  );
}
