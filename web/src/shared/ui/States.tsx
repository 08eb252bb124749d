import type { ReactNode } from 'react';
import { ApiError, NetworkError } from '../api/client';
import { SessionExpired } from '../auth/session';
import { t } from '../i18n';
import { Button } from './Button';
import { Icon, type IconName } from './Icon';

/** An error in words a person can act on: the API's problem detail, never raw JSON. */
export function describeError(error: unknown): { title: string; detail: string } {
  if (error instanceof SessionExpired) return { title: t('error.session.title'), detail: t('error.session.detail') };
  if (error instanceof NetworkError) return { title: t('error.network.title'), detail: t('error.network.detail') };
  if (error instanceof ApiError) {
    if (error.status >= 500) return { title: t('error.server.title'), detail: t('error.server.detail') };
    const title =
      error.status === 404
        ? t('error.notFound.title')
        : error.status === 403
          ? t('error.forbidden.title')
          : error.status === 409
            ? t('error.conflict.title')
            : t('error.request.title');
    return { title, detail: sentence(error.detail ?? t('error.request.detail')) };
  }
  return { title: t('error.unexpected.title'), detail: error instanceof Error ? sentence(error.message) : String(error) };
}

/** The API's details are lower-case fragments ("no station X"): shown as a sentence. */
function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capital = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

export function Loading({ label = t('common.loading'), lines = 3 }: { label?: string; lines?: number }) {
  return (
    <div role="status" aria-live="polite" className="stack" style={{ ['--gap' as string]: '10px' }}>
      <span className="sr-only">{label}</span>
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} className="skeleton" style={{ height: i === 0 ? 22 : 16, width: `${90 - i * 15}%` }} aria-hidden="true" />
      ))}
    </div>
  );
}

export function Spinner({ label }: { label: string }) {
  return (
    <div role="status" className="row" style={{ justifyContent: 'center', padding: 24 }}>
      <span className="spinner" aria-hidden="true" />
      <span className="muted">{label}</span>
    </div>
  );
}

export function EmptyState({ icon = 'info', title, children, action }: { icon?: IconName; title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="state">
      <div className="state-icon">
        <Icon name={icon} size={26} />
      </div>
      <h2>{title}</h2>
      {children && <p>{children}</p>}
      {action}
    </div>
  );
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { title, detail } = describeError(error);
  return (
    <div className="state error" role="alert">
      <div className="state-icon">
        <Icon name="warning" size={26} />
      </div>
      <h2>{title}</h2>
      <p>{detail}</p>
      {onRetry && (
        <Button icon="refresh" onClick={onRetry}>
          {t('common.retry')}
        </Button>
      )}
    </div>
  );
}

/** A one-line problem next to a form or action. */
export function ErrorBanner({ error }: { error: unknown }) {
  if (!error) return null;
  const { title, detail } = describeError(error);
  return (
    <div className="banner" role="alert">
      <Icon name="warning" size={18} />
      <div>
        <strong>{title}</strong> {detail}
      </div>
    </div>
  );
}

/** Renders loading, error (with retry) or the content of a resource. */
export function Loaded<T>({
  resource,
  children,
  lines,
}: {
  resource: { data: T | undefined; error: unknown; loading: boolean; reload: () => void };
  children: (data: T) => ReactNode;
  lines?: number;
}) {
  if (resource.data !== undefined) return <>{children(resource.data)}</>;
  if (resource.error) return <ErrorState error={resource.error} onRetry={resource.reload} />;
  return <Loading lines={lines} />;
}
