import { Link } from 'wouter';
import { useApp } from '../../shared/context';
import { useResource } from '../../shared/hooks/useResource';
import { statusLabel, t } from '../../shared/i18n';
import { formatDay, formatEnergy, formatNumber, formatRelative } from '../../shared/i18n/format';
import { operatorTone, plugs, stationName } from '../../shared/model/stations';
import { BarChart } from '../../shared/ui/charts';
import { StationMap } from '../../shared/ui/StationMap';
import { EmptyState, Loaded } from '../../shared/ui/States';
import { toneOf } from '../../shared/ui/StatusPill';
import { allSessions, allStations } from '../data';

const DAYS = 7;

function startOfDay(d: Date): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

export function Dashboard() {
  const { api, config } = useApp();
  const fleet = useResource(() => allStations(api), [], 15_000);
  const since = startOfDay(new Date(Date.now() - (DAYS - 1) * 86_400_000));
  const week = useResource(() => allSessions(api, { from: since.toISOString() }), [], 30_000);
  const active = useResource(() => allSessions(api, { state: 'active' }, 100), [], 10_000);

  return (
    <div className="page wide">
      <div className="page-head">
        <div>
          <h1>{t('dash.title')}</h1>
          <p>{t('dash.subtitle')}</p>
        </div>
      </div>
      <Loaded resource={fleet}>
        {({ stations, more }) => {
          const connectors = stations.flatMap((s) => plugs(s).map((c) => (s.online ? c.status : 'Offline')));
          const byStatus = new Map<string, number>();
          for (const status of connectors) byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
          const online = stations.filter((s) => s.online).length;
          const located = stations.filter((s) => s.location);
          return (
            <div className="stack" style={{ ['--gap' as string]: '20px' }}>
              <div className="grid stats" style={{ ['--min' as string]: '170px' }}>
                <div className="card stat">
                  <span className="label">{t('dash.stations')}</span>
                  <span className="value">{formatNumber(stations.length)}</span>
                </div>
                <div className="card stat">
                  <span className="label">{t('dash.online')}</span>
                  <span className="value">
                    {formatNumber(online)}
                    <span className="of"> / {formatNumber(stations.length)}</span>
                  </span>
                </div>
                <div className="card stat">
                  <span className="label">{t('dash.charging')}</span>
                  <span className="value tone-text-busy">{formatNumber(byStatus.get('Charging') ?? 0)}</span>
                </div>
                <div className="card stat">
                  <span className="label">{t('dash.faulted')}</span>
                  <span className="value tone-text-bad">{formatNumber(byStatus.get('Faulted') ?? 0)}</span>
                </div>
              </div>
              {more && <p className="muted small">{t('dash.partial', { count: stations.length })}</p>}
              <div className="dash-grid">
                <section className="card flush dash-map" aria-labelledby="dash-map-title">
                  <div className="card-head pad">
                    <h2 id="dash-map-title">{t('dash.map')}</h2>
                  </div>
                  {located.length ? (
                    <div className="dash-map-body">
                      <StationMap
                        stations={located.map((s) => ({
                          id: s.stationId,
                          latitude: s.location!.latitude,
                          longitude: s.location!.longitude,
                          tone: operatorTone(s),
                          title: `${stationName(s)}: ${s.online ? t('common.online') : t('common.offline')}`,
                        }))}
                        center={config.map.center}
                        fit
                        label={t('dash.map')}
                      />
                    </div>
                  ) : (
                    <p className="muted pad-all">{t('dash.noLocated')}</p>
                  )}
                  {located.length > 0 && (
                    <p className="legend pad-all">
                      {(['ok', 'busy', 'bad', 'off'] as const).map((tone) => (
                        <span key={tone}>
                          <i className={`dot tone-${tone}`} aria-hidden="true" />
                          {t(`dash.legend.${tone}`)}
                        </span>
                      ))}
                    </p>
                  )}
                </section>
                <section className="card" aria-labelledby="dash-status-title">
                  <h2 id="dash-status-title" className="card-title">
                    {t('dash.byStatus')}
                  </h2>
                  <ul className="status-bars">
                    {[...byStatus].sort((a, b) => b[1] - a[1]).map(([status, count]) => (
                      <li key={status}>
                        <span className="row between small">
                          <span>{statusLabel(status)}</span>
                          <strong>{formatNumber(count)}</strong>
                        </span>
                        <span className="meter" aria-hidden="true">
                          <span className={`meter-fill tone-${toneOf(status)}`} style={{ width: `${(count / connectors.length) * 100}%` }} />
                        </span>
                      </li>
                    ))}
                  </ul>
                </section>
              </div>
            </div>
          );
        }}
      </Loaded>
      <div className="dash-grid lower">
        <section className="card" aria-labelledby="dash-energy-title">
          <h2 id="dash-energy-title" className="card-title">
            {t('dash.energy')}
          </h2>
          <Loaded resource={week} lines={4}>
            {({ sessions }) => {
              const days = Array.from({ length: DAYS }, (_, i) => new Date(since.getTime() + i * 86_400_000));
              const energy = days.map(() => 0);
              for (const s of sessions) {
                if (!s.startedAt || s.energyWh == null) continue;
                const day = Math.floor((startOfDay(new Date(s.startedAt)).getTime() - since.getTime()) / 86_400_000);
                if (day >= 0 && day < DAYS) energy[day] += s.energyWh;
              }
              return (
                <BarChart
                  label={t('dash.energyLabel')}
                  bars={days.map((d, i) => ({ label: formatDay(d), value: energy[i], highlight: i === DAYS - 1 }))}
                  formatY={(wh) => formatEnergy(wh)}
                />
              );
            }}
          </Loaded>
        </section>
        <section className="card flush" aria-labelledby="dash-active-title">
          <div className="card-head pad">
            <h2 id="dash-active-title">{t('dash.inProgress')}</h2>
          </div>
          <Loaded resource={active}>
            {({ sessions }) =>
              sessions.length === 0 ? (
                <EmptyState icon="sessions" title={t('dash.noneInProgress')} />
              ) : (
                <ul className="list">
                  {sessions.map((s) => (
                    <li key={`${s.stationId}/${s.transactionId}`}>
                      <Link className="list-item" href={`/sessions/${encodeURIComponent(s.stationId)}/${encodeURIComponent(s.transactionId)}`}>
                        <span className="live-badge" aria-hidden="true" />
                        <span className="grow">
                          <strong>{s.stationId}</strong>
                          <span className="muted small block">
                            {s.idToken ?? ''} · {s.startedAt ? formatRelative(s.startedAt) : ''}
                          </span>
                        </span>
                        <strong className="nowrap">{formatEnergy(s.energyWh ?? 0)}</strong>
                      </Link>
                    </li>
                  ))}
                </ul>
              )
            }
          </Loaded>
        </section>
      </div>
    </div>
  );
}
