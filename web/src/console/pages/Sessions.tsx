import { useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { data } from '../../shared/api/client';
import { useApp } from '../../shared/context';
import { useResource } from '../../shared/hooks/useResource';
import { t } from '../../shared/i18n';
import { formatDateTime, formatDuration, formatEnergy } from '../../shared/i18n/format';
import { elapsedSeconds } from '../../shared/model/sessions';
import { Button } from '../../shared/ui/Button';
import { EmptyState, ErrorBanner, Loaded } from '../../shared/ui/States';
import { StatusPill } from '../../shared/ui/StatusPill';
import { toCsv } from '../csv';
import { allSessions, type SessionQuery, type SessionView } from '../data';

/** A date input's day as the start (or end) of that day in the user's time zone. */
function dayBound(day: string, end: boolean): string | undefined {
  if (!day) return undefined;
  const [y, m, d] = day.split('-').map(Number);
  return (end ? new Date(y, m - 1, d, 23, 59, 59, 999) : new Date(y, m - 1, d)).toISOString();
}

export function Sessions() {
  const { api } = useApp();
  const [form, setForm] = useState({ stationId: '', state: '', from: '', to: '' });
  const [query, setQuery] = useState<SessionQuery>({});
  const first = useResource(() => data(api.GET('/v1/operator/sessions', { params: { query: { ...query, limit: 25 } } })), [JSON.stringify(query)], 15_000);
  const [more, setMore] = useState<{ sessions: SessionView[]; cursor: string | null } | null>(null);
  const [busy, setBusy] = useState<'more' | 'csv' | null>(null);
  const [error, setError] = useState<unknown>();

  const apply = (event?: FormEvent) => {
    event?.preventDefault();
    setMore(null);
    setQuery({
      stationId: form.stationId.trim() || undefined,
      state: form.state || undefined,
      from: dayBound(form.from, false),
      to: dayBound(form.to, true),
    });
  };
  const next = more ? more.cursor : first.data?.nextCursor;
  const loadMore = async () => {
    if (!next) return;
    setBusy('more');
    try {
      const page = await data(api.GET('/v1/operator/sessions', { params: { query: { ...query, limit: 25, cursor: next } } }));
      setMore({ sessions: [...(more?.sessions ?? []), ...page.sessions], cursor: page.nextCursor ?? null });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  const exportCsv = async () => {
    setBusy('csv');
    setError(undefined);
    try {
      const { sessions } = await allSessions(api, query, 10_000);
      const url = URL.createObjectURL(new Blob([toCsv(sessions)], { type: 'text/csv;charset=utf-8' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `sessions-${new Date().toISOString().slice(0, 10)}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="page wide">
      <div className="page-head">
        <div>
          <h1>{t('sessions.title')}</h1>
          <p>{t('sessions.subtitle')}</p>
        </div>
        <Button icon="download" busy={busy === 'csv'} onClick={exportCsv}>
          {busy === 'csv' ? t('sessions.exporting') : t('sessions.export')}
        </Button>
      </div>
      <form className="card filter-bar" onSubmit={apply} aria-label={t('find.filters')}>
        <div className="field">
          <label htmlFor="f-station">{t('sessions.filter.station')}</label>
          <input id="f-station" value={form.stationId} onChange={(e) => setForm({ ...form, stationId: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="f-state">{t('sessions.filter.state')}</label>
          <select id="f-state" value={form.state} onChange={(e) => setForm({ ...form, state: e.target.value })}>
            <option value="">{t('common.any')}</option>
            <option value="active">{t('status.active')}</option>
            <option value="completed">{t('status.completed')}</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-from">{t('sessions.filter.from')}</label>
          <input id="f-from" type="date" value={form.from} onChange={(e) => setForm({ ...form, from: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="f-to">{t('sessions.filter.to')}</label>
          <input id="f-to" type="date" value={form.to} onChange={(e) => setForm({ ...form, to: e.target.value })} />
        </div>
        <div className="row filter-actions">
          <Button type="submit" variant="primary">
            {t('sessions.filter.apply')}
          </Button>
          <Button
            variant="ghost"
            onClick={() => {
              setForm({ stationId: '', state: '', from: '', to: '' });
              setMore(null);
              setQuery({});
            }}
          >
            {t('sessions.filter.reset')}
          </Button>
        </div>
      </form>
      <ErrorBanner error={error} />
      <Loaded resource={first}>
        {(page) => {
          const sessions = [...page.sessions, ...(more?.sessions ?? [])];
          return sessions.length === 0 ? (
            <div className="card">
              <EmptyState icon="sessions" title={t('sessions.empty.title')}>
                {t('sessions.empty.text')}
              </EmptyState>
            </div>
          ) : (
            <div className="stack">
              <div className="card flush table-wrap">
                <table data-testid="sessions">
                  <thead>
                    <tr>
                      <th scope="col">{t('sessions.col.started')}</th>
                      <th scope="col">{t('sessions.col.station')}</th>
                      <th scope="col" className="hide-mobile">
                        {t('sessions.col.token')}
                      </th>
                      <th scope="col" className="num">
                        {t('sessions.col.energy')}
                      </th>
                      <th scope="col" className="num hide-mobile">
                        {t('sessions.col.duration')}
                      </th>
                      <th scope="col">{t('sessions.col.state')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {sessions.map((s) => {
                      const seconds = elapsedSeconds(s);
                      return (
                        <tr key={`${s.stationId}/${s.transactionId}`} data-session={`${s.stationId}/${s.transactionId}`}>
                          <td>
                            <Link href={`/sessions/${encodeURIComponent(s.stationId)}/${encodeURIComponent(s.transactionId)}`}>
                              {formatDateTime(s.startedAt)}
                            </Link>
                          </td>
                          <td>{s.stationId}</td>
                          <td className="mono hide-mobile">{s.idToken ?? '–'}</td>
                          <td className="num">{formatEnergy(s.energyWh ?? 0)}</td>
                          <td className="num hide-mobile">{seconds != null ? formatDuration(seconds) : '–'}</td>
                          <td>
                            <StatusPill status={s.state} />
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              {next && (
                <Button onClick={loadMore} busy={busy === 'more'}>
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
