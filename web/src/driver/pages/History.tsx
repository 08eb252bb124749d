import { useState } from 'react';
import { Link } from 'wouter';
import { data, type Schemas } from '../../shared/api/client';
import { useApp } from '../../shared/context';
import { useResource } from '../../shared/hooks/useResource';
import { t } from '../../shared/i18n';
import { formatDateTime, formatDuration, formatEnergy } from '../../shared/i18n/format';
import { elapsedSeconds } from '../../shared/model/sessions';
import { Button } from '../../shared/ui/Button';
import { Icon } from '../../shared/ui/Icon';
import { EmptyState, ErrorBanner, Loaded } from '../../shared/ui/States';
import { StatusPill } from '../../shared/ui/StatusPill';

type SessionView = Schemas['SessionView'];

export function History() {
  const { api } = useApp();
  const first = useResource(() => data(api.GET('/v1/me/sessions', { params: { query: { limit: 20 } } })), [], 15_000);
  const [more, setMore] = useState<SessionView[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const next = cursor === undefined ? first.data?.nextCursor : cursor;

  const loadMore = async () => {
    if (!next) return;
    setBusy(true);
    try {
      const page = await data(api.GET('/v1/me/sessions', { params: { query: { limit: 20, cursor: next } } }));
      setMore((m) => [...m, ...page.sessions]);
      setCursor(page.nextCursor ?? null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page narrow">
      <div className="page-head">
        <div>
          <h1>{t('history.title')}</h1>
          <p>{t('history.subtitle')}</p>
        </div>
      </div>
      <Loaded resource={first}>
        {(page) => {
          const sessions = [...page.sessions, ...more];
          if (!sessions.length)
            return (
              <div className="card">
                <EmptyState icon="history" title={t('history.empty.title')} action={<Link href="/">{t('history.findCharger')}</Link>}>
                  {t('history.empty.text')}
                </EmptyState>
              </div>
            );
          return (
            <div className="stack">
              <ul className="list card flush" aria-label={t('history.title')}>
                {sessions.map((s) => {
                  const seconds = elapsedSeconds(s);
                  return (
                    <li key={`${s.stationId}/${s.transactionId}`}>
                      <Link
                        className="list-item"
                        href={`/sessions/${encodeURIComponent(s.stationId)}/${encodeURIComponent(s.transactionId)}`}
                        data-session={`${s.stationId}/${s.transactionId}`}
                      >
                        <span className={`station-dot tone-${s.state === 'active' ? 'busy' : 'ok'}`} aria-hidden="true">
                          <Icon name={s.state === 'active' ? 'bolt' : 'check'} size={18} />
                        </span>
                        <span className="grow">
                          <strong>{s.stationId}</strong>
                          <span className="muted small block">{formatDateTime(s.startedAt)}</span>
                        </span>
                        <span className="stack end" style={{ ['--gap' as string]: '2px' }}>
                          <strong className="nowrap">{formatEnergy(s.energyWh ?? 0)}</strong>
                          {s.state === 'active' ? (
                            <StatusPill status="active" />
                          ) : (
                            <span className="muted small nowrap">{seconds != null ? formatDuration(seconds) : ''}</span>
                          )}
                        </span>
                      </Link>
                    </li>
                  );
                })}
              </ul>
              <ErrorBanner error={error} />
              {next && (
                <Button onClick={loadMore} busy={busy}>
                  {t('common.loadMore')}
                </Button>
              )}
            </div>
          );
        }}
      </Loaded>
    </div>
  );
}
