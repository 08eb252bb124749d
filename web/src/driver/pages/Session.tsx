import { useEffect, useState } from 'react';
import { Link, useParams } from 'wouter';
import { data } from '../../shared/api/client';
import { useApp } from '../../shared/context';
import { useResource } from '../../shared/hooks/useResource';
import { t } from '../../shared/i18n';
import { formatDateTime, formatDuration, formatEnergy, formatPower, formatTime } from '../../shared/i18n/format';
import { elapsedSeconds, powerSeries, type SessionDetail } from '../../shared/model/sessions';
import { Button } from '../../shared/ui/Button';
import { LineChart } from '../../shared/ui/charts';
import { Dialog } from '../../shared/ui/Dialog';
import { Icon } from '../../shared/ui/Icon';
import { ErrorBanner, Loaded } from '../../shared/ui/States';
import { StatusPill } from '../../shared/ui/StatusPill';
import { Receipt, RunningCost } from '../billing';
import { settle } from './Station';

/** A clock that ticks every second while `running`. */
function useNow(running: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return now;
}

function StopButton({ session, onStopped }: { session: SessionDetail; onStopped: () => void }) {
  const { api } = useApp();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [refused, setRefused] = useState<string>();
  const stop = async () => {
    setConfirming(false);
    setBusy(true);
    setError(undefined);
    setRefused(undefined);
    try {
      const submitted = await data(
        api.POST('/v1/charging/stop', { body: { stationId: session.stationId, transactionId: session.transactionId } }),
      );
      const done = await settle(api, submitted);
      const answer = (done.answer ?? {}) as Record<string, unknown>;
      if (done.state !== 'Answered' || answer.status !== 'Accepted') {
        setRefused(t('session.stopRefused', { status: String(answer.status ?? done.errorDescription ?? done.state) }));
      }
      onStopped();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button variant="danger" size="large" block icon="stop" busy={busy} onClick={() => setConfirming(true)}>
        {busy ? t('session.stopping') : t('session.stop')}
      </Button>
      {refused && (
        <div className="banner" role="alert">
          {refused}
        </div>
      )}
      <ErrorBanner error={error} />
      <Dialog open={confirming} title={t('session.stopConfirm')} onClose={() => setConfirming(false)}>
        <p>{t('session.stopConfirmText')}</p>
        <div className="dialog-actions">
          <Button onClick={() => setConfirming(false)}>{t('common.cancel')}</Button>
          <Button variant="danger" icon="stop" onClick={stop}>
            {t('session.stop')}
          </Button>
        </div>
      </Dialog>
    </>
  );
}

function Live({ session, reload }: { session: SessionDetail; reload: () => void }) {
  const active = session.state === 'active';
  const now = useNow(active);
  const points = powerSeries(session.samples);
  const elapsed = elapsedSeconds(session, now);
  const latest = session.latestPowerW ?? points.at(-1)?.y ?? null;
  return (
    <div className="stack">
      <section className={`hero card ${active ? 'charging' : 'done'}`} aria-labelledby="energy-label">
        <div className="row between">
          <StatusPill status={session.state} />
          {active && (
            <span className="live-dot small" aria-hidden="true">
              {t('common.updatedLive')}
            </span>
          )}
        </div>
        <div className="hero-number">
          <span id="energy-label" className="label">
            {t('session.energy')}
          </span>
          <span className="value" data-testid="energy">
            {formatEnergy(session.energyWh ?? 0)}
          </span>
        </div>
        <div className="hero-stats">
          <div className="stat">
            <span className="label">{t('session.power')}</span>
            <span className="value small-value" data-testid="power">
              {active ? formatPower(latest) : '–'}
            </span>
          </div>
          <div className="stat">
            <span className="label">{t('session.duration')}</span>
            <span className="value small-value">{elapsed != null ? formatDuration(elapsed) : '–'}</span>
          </div>
          <RunningCost stationId={session.stationId} transactionId={session.transactionId} />
        </div>
      </section>
      <section className="card" aria-labelledby="chart-title">
        <div className="card-head">
          <h2 id="chart-title">{t('session.chart')}</h2>
        </div>
        <LineChart
          points={points}
          label={t('session.chart')}
          summary={t('session.chartSummary', { count: points.length, power: formatPower(points.at(-1)?.y) })}
          formatY={(w) => formatPower(w)}
          formatX={(x) => formatTime(x)}
          empty={t('session.chartEmpty')}
        />
      </section>
      {active ? (
        <StopButton session={session} onStopped={reload} />
      ) : (
        <section className="card stack" aria-labelledby="done-title">
          <div className="row">
            <span className="done-icon" aria-hidden="true">
              <Icon name="check" size={22} />
            </span>
            <div>
              <h2 id="done-title">{t('session.completed')}</h2>
              <p className="muted">
                {t('session.completedText', {
                  energy: formatEnergy(session.energyWh ?? 0),
                  duration: formatDuration(session.durationSeconds ?? elapsed ?? 0),
                })}
              </p>
            </div>
          </div>
          <Receipt stationId={session.stationId} transactionId={session.transactionId} />
        </section>
      )}
      <section className="card">
        <dl className="kv">
          <dt>{t('common.station')}</dt>
          <dd>
            <Link href={`/stations/${encodeURIComponent(session.stationId)}`}>{session.stationId}</Link>
          </dd>
          <dt>{t('session.started')}</dt>
          <dd>{formatDateTime(session.startedAt)}</dd>
          {session.stoppedAt && (
            <>
              <dt>{t('session.stopped')}</dt>
              <dd>{formatDateTime(session.stoppedAt)}</dd>
            </>
          )}
          {session.idToken && (
            <>
              <dt>{t('session.token')}</dt>
              <dd className="mono">{session.idToken}</dd>
            </>
          )}
          {session.stopReason && (
            <>
              <dt>{t('session.stopReason')}</dt>
              <dd>{session.stopReason}</dd>
            </>
          )}
          <dt>{t('session.transaction')}</dt>
          <dd className="mono">{session.transactionId}</dd>
        </dl>
      </section>
    </div>
  );
}

export function Session() {
  const { stationId, transactionId } = useParams<{ stationId: string; transactionId: string }>();
  const { api } = useApp();
  const [done, setDone] = useState(false);
  const session = useResource(
    () => data(api.GET('/v1/me/sessions/{stationId}/{transactionId}', { params: { path: { stationId, transactionId } } })),
    [stationId, transactionId],
    done ? undefined : 2_500,
  );
  useEffect(() => {
    if (session.data?.state === 'completed') setDone(true);
  }, [session.data?.state]);
  return (
    <div className="page narrow">
      <Link href="/history" className="back">
        <Icon name="back" size={16} /> {t('driver.nav.history')}
      </Link>
      <h1 className="sr-only">{t('session.title')}</h1>
      <Loaded resource={session}>{(s) => <Live session={s} reload={session.reload} />}</Loaded>
    </div>
  );
}
