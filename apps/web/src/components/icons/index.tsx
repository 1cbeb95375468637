/**
 * The console's own icons: inline SVG (stroke icons on a 24-unit grid, drawn in `currentColor`), so they render the
 * same everywhere — no icon font, no emoji glyph that a machine without an emoji font shows as an empty box.
 */
import type { ReactNode } from "react";

export interface IconProps {
  /** Pixels (width = height). */
  size?: number;
  /** Announced to screen readers; without it the icon is decorative. */
  title?: string;
  className?: string;
}

function Icon({ size = 14, title, className, name, children }: IconProps & { name: string; children: ReactNode }) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      className={`icon${className ? ` ${className}` : ""}`}
      data-icon={name}
      role={title ? "img" : undefined}
      aria-hidden={title ? undefined : true}
      aria-label={title}
    >
      {title && <title>{title}</title>}
      {children}
    </svg>
  );
}

export const LockIcon = (p: IconProps) => (
  <Icon {...p} name="lock">
    <rect x="4" y="11" width="16" height="10" rx="2" />
    <path d="M8 11V7a4 4 0 0 1 8 0v4" />
  </Icon>
);

export const UnlockIcon = (p: IconProps) => (
  <Icon {...p} name="unlock">
    <rect x="4" y="11" width="16" height="10" rx="2" />
    <path d="M8 11V7a4 4 0 0 1 7.75-1.4" />
  </Icon>
);

export const ShieldIcon = (p: IconProps) => (
  <Icon {...p} name="shield">
    <path d="M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z" />
  </Icon>
);

export const ShieldCheckIcon = (p: IconProps) => (
  <Icon {...p} name="shield-check">
    <path d="M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z" />
    <path d="M8.5 12l2.5 2.5 4.5-5" />
  </Icon>
);

export const ShieldOffIcon = (p: IconProps) => (
  <Icon {...p} name="shield-off">
    <path d="M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z" />
    <path d="M4 4l16 16" />
  </Icon>
);

export const CheckIcon = (p: IconProps) => (
  <Icon {...p} name="check">
    <path d="M5 12.5l4.5 4.5L19 7.5" />
  </Icon>
);

export const AlertIcon = (p: IconProps) => (
  <Icon {...p} name="alert">
    <path d="M12 3l10 18H2z" />
    <path d="M12 10v4" />
    <path d="M12 17.5v.01" />
  </Icon>
);

export const PlusIcon = (p: IconProps) => (
  <Icon {...p} name="plus">
    <path d="M12 5v14M5 12h14" />
  </Icon>
);

export const TrashIcon = (p: IconProps) => (
  <Icon {...p} name="trash">
    <path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3" />
  </Icon>
);

export const CodeIcon = (p: IconProps) => (
  <Icon {...p} name="code">
    <path d="M8 7l-5 5 5 5M16 7l5 5-5 5" />
  </Icon>
);

export const FormIcon = (p: IconProps) => (
  <Icon {...p} name="form">
    <rect x="4" y="4" width="16" height="16" rx="2" />
    <path d="M8 9h8M8 13h8M8 17h5" />
  </Icon>
);

export const UserCheckIcon = (p: IconProps) => (
  <Icon {...p} name="user-check">
    <circle cx="9" cy="8" r="4" />
    <path d="M2 21c0-4 3-6 7-6s7 2 7 6" />
    <path d="M16 11l2 2 4-4" />
  </Icon>
);
