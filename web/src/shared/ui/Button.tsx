import type { ButtonHTMLAttributes, ReactNode } from 'react';
import { Icon, type IconName } from './Icon';

type Variant = 'primary' | 'secondary' | 'danger' | 'danger-outline' | 'ghost';

interface Props extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: Variant;
  size?: 'small' | 'large';
  block?: boolean;
  icon?: IconName;
  busy?: boolean;
  children?: ReactNode;
}

/** A button; `busy` shows progress and stops a second press. */
export function Button({ variant = 'secondary', size, block, icon, busy, children, className, disabled, type, ...rest }: Props) {
  const classes = ['btn', variant, size, block ? 'block' : '', className ?? ''].filter(Boolean).join(' ');
  return (
    <button type={type ?? 'button'} className={classes} disabled={disabled || busy} aria-busy={busy || undefined} {...rest}>
      {busy ? <span className="spinner" aria-hidden="true" /> : icon ? <Icon name={icon} size={18} /> : null}
      {children}
    </button>
  );
}
