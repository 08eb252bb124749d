import { Link, useParams } from 'wouter';
import { data } from '../../shared/api/client';
import { useApp } from '../../shared/context';
import { useResource } from '../../shared/hooks/useResource';
import { t } from '../../shared/i18n';
import { formatDateTime, formatDuration, formatEnergy, formatPower, formatTime } from '../../shared/i18n/format';
import { elapsedSeconds, powerSeries } from '../../shared/model/sessions';
import { LineChart } from '../../shared/ui/charts';
import { Icon } from '../../shared/ui/Icon';
import { Loaded } from '../../shared/ui/States';
import { StatusPill } from '../../shared/ui/StatusPill';

export function SessionDetail() {
  const { stationId, transactionId } = useParams<{ stationId: string; transactionId: string }>();
  const { api } = useApp();
  const session = useResource(
    () => data(api.GET('/v1/operator/sessions/{stationId}/{transactionId}', { params: { path: { stationId, transactionId } } })),
    [stationId, transactionId],
    5_000,
  );
  return (
    <div className="page wide">
      <Link href="/sessions" className="back">
        <Icon name="back" size={16} /> {t('console.nav.sessions')}
      </Link>
      <Loaded resource={session}>
        {(s) => {
          const points = powerSeries(s.samples);
          const seconds = elapsedSeconds(s);
          return (
            <div className="stack" style={{ ['--gap' as string]: '20px' }}>
              <div className="page-head">
                <div>
                  <h1>{t('session.title')}</h1>
                  <p>
                    <Link href={`/stations/${encodeURIComponent(s.stationId)}`}>{s.stationId}</Link> · <span className="mono">{s.transactionId}</span>
                  </p>
                </div>
                <StatusPill status={s.state} />
              </div>
              <div className="grid" style={{ ['--min' as string]: '170px' }}>
                <div className="card stat">
                  <span className="label">{t('session.energy')}</span>
                  <span className="value">{formatEnergy(s.energyWh ?? 0)}</span>
                </div>
                <div className="card stat">
                  <span className="label">{t('session.power')}</span>
                  <span className="value">{s.state === 'active' ? formatPower(s.latestPowerW) : '–'}</span>
                </div>
                <div className="card stat">
                  <span className="label">{t('session.duration')}</span>
                  <span className="value">{seconds != null ? formatDuration(s.durationSeconds ?? seconds) : '–'}</span>
                </div>
              </div>
              <section className="card" aria-labelledby="op-chart">
                <h2 id="op-chart" className="card-title">
                  {t('session.chart')}
                </h2>
                <LineChart
                  points={points}
                  label={t('session.chart')}
                  summary={t('session.chartSummary', { count: points.length, power: formatPower(points.at(-1)?.y) })}
                  formatY={(w) => formatPower(w)}
                  formatX={(x) => formatTime(x)}
                  empty={t('session.chartEmpty')}
                />
              </section>
              <section className="card">
                <dl className="kv">
                  <dt>{t('session.started')}</dt>
                  <dd>{formatDateTime(s.startedAt)}</dd>
                  <dt>{t('session.stopped')}</dt>
                  <dd>{formatDateTime(s.stoppedAt)}</dd>
                  <dt>{t('session.token')}</dt>
                  <dd className="mono">{s.idToken ?? '–'}</dd>
                  <dt>{t('common.connector')}</dt>
                  <dd>{s.evse != null ? t('common.evseConnector', { evse: s.evse, n: s.connector ?? '–' }) : (s.connector ?? '–')}</dd>
                  <dt>{t('session.stopReason')}</dt>
                  <dd>{s.stopReason ?? '–'}</dd>
                </dl>
              </section>
            </div>
          );
        }}
      </Loaded>
    </div>
  );
}
