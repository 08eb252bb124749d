import { useState, type FormEvent } from 'react';
import { Link, useLocation, useParams } from 'wouter';
import { data, type Schemas } from '../../shared/api/client';
import { useApp } from '../../shared/context';
import { useResource } from '../../shared/hooks/useResource';
import { connectorLabel, t, type MessageKey } from '../../shared/i18n';
import { formatDateTime, formatDuration, formatEnergy, formatPower, formatRelative, formatTime } from '../../shared/i18n/format';
import { elapsedSeconds } from '../../shared/model/sessions';
import { connectorName, operatorTone, plugs, stationName } from '../../shared/model/stations';
import { Button } from '../../shared/ui/Button';
import { Dialog } from '../../shared/ui/Dialog';
import { Icon } from '../../shared/ui/Icon';
import { StationMap } from '../../shared/ui/StationMap';
import { EmptyState, ErrorBanner, Loaded } from '../../shared/ui/States';
import { StatusPill, toneOf } from '../../shared/ui/StatusPill';
import { Tabs } from '../../shared/ui/Tabs';
import { useToast } from '../../shared/ui/Toast';
import { answerStatus, commandProtocol, PRESETS, type Preset } from '../commands';
import { ConnectorsEditor, connectorInput, PasswordDialog, type ConnectorRow } from '../components';

type Station = Schemas['OperatorStationView'];
type TabKey = 'overview' | 'history' | 'sessions' | 'commands' | 'settings';

function Overview({ station }: { station: Station }) {
  return (
    <div className="detail-grid">
      <section className="card flush" aria-labelledby="live-title">
        <div className="card-head pad">
          <h2 id="live-title">{t('station.live')}</h2>
          <span className="muted small">{t('common.updatedLive')}</span>
        </div>
        <ul className="list">
          {station.connectors.map((c) => (
            <li key={`${c.evseId}-${c.connectorId}`} className="list-item">
              <span className={`station-dot tone-${station.online ? toneOf(c.status) : 'off'}`} aria-hidden="true">
                <Icon name="plug" size={18} />
              </span>
              <span className="grow">
                <strong>{connectorName(c)}</strong>
                <span className="muted small block">
                  {c.type ? connectorLabel(c.type) : ''}
                  {c.maxPowerW != null ? ` · ${formatPower(c.maxPowerW)}` : ''}
                </span>
              </span>
              <span className="stack end" style={{ ['--gap' as string]: '2px' }}>
                <StatusPill status={c.status} />
                {c.since && <span className="muted small">{formatRelative(c.since)}</span>}
              </span>
            </li>
          ))}
        </ul>
      </section>
      <section className="card" aria-labelledby="facts-title">
        <h2 id="facts-title" className="card-title">
          {t('common.details')}
        </h2>
        <dl className="kv">
          <dt>{t('station.connection')}</dt>
          <dd>
            {station.connection
              ? t('station.connectedWith', { protocol: station.connection.protocol, time: formatDateTime(station.connection.connectedAt) })
              : t('station.notConnected')}
          </dd>
          <dt>{t('station.registration')}</dt>
          <dd>
            <StatusPill status={station.registration} />
          </dd>
          <dt>{t('station.protocols')}</dt>
          <dd className="mono">{station.protocols.join(', ')}</dd>
          <dt>{t('station.site')}</dt>
          <dd>{station.site ?? '–'}</dd>
          <dt>{t('station.boot')}</dt>
          <dd>
            {station.boot
              ? t('station.bootText', {
                  vendor: station.boot.vendor,
                  model: station.boot.model,
                  firmware: station.boot.firmwareVersion ?? '–',
                  status: station.boot.status,
                  time: formatRelative(station.boot.at),
                })
              : '–'}
          </dd>
          <dt>{t('station.location')}</dt>
          <dd>{station.location ? `${station.location.latitude.toFixed(5)}, ${station.location.longitude.toFixed(5)}` : t('station.noLocation')}</dd>
        </dl>
        {station.location && (
          <div className="mini-map">
            <StationMap
              stations={[
                {
                  id: station.stationId,
                  latitude: station.location.latitude,
                  longitude: station.location.longitude,
                  tone: operatorTone(station),
                  title: stationName(station),
                },
              ]}
              center={[station.location.latitude, station.location.longitude]}
              zoom={15}
              label={t('station.location')}
            />
          </div>
        )}
      </section>
    </div>
  );
}

function StatusHistory({ stationId }: { stationId: string }) {
  const { api } = useApp();
  const history = useResource(
    () => data(api.GET('/v1/operator/stations/{stationId}/status-history', { params: { path: { stationId }, query: { limit: 50 } } })),
    [stationId],
    10_000,
  );
  return (
    <Loaded resource={history}>
      {({ entries }) =>
        entries.length === 0 ? (
          <div className="card">
            <EmptyState icon="history" title={t('history.empty')} />
          </div>
        ) : (
          <ol className="timeline card" aria-label={t('station.tab.history')}>
            {entries.map((e, i) => (
              <li key={`${e.timestamp}-${e.connectorId}-${i}`} className={`tone-${toneOf(e.status)}`}>
                <time dateTime={e.timestamp} className="muted small nowrap">
                  {formatDateTime(e.timestamp)}
                </time>
                <span className="grow">
                  <StatusPill status={e.status} />{' '}
                  <span className="muted small">
                    {e.connectorId === 0 ? t('common.wholeStation') : e.evseId != null ? t('common.evseConnector', { evse: e.evseId, n: e.connectorId }) : t('common.connectorN', { n: e.connectorId })}
                  </span>
                  {e.errorCode && e.errorCode !== 'NoError' && <span className="small tone-text-bad"> · {e.errorCode}</span>}
                  {e.info && <span className="small muted"> · {e.info}</span>}
                </span>
              </li>
            ))}
          </ol>
        )
      }
    </Loaded>
  );
}

function StationSessions({ stationId }: { stationId: string }) {
  const { api } = useApp();
  const sessions = useResource(
    () => data(api.GET('/v1/operator/sessions', { params: { query: { stationId, limit: 50 } } })),
    [stationId],
    10_000,
  );
  return (
    <Loaded resource={sessions}>
      {({ sessions: list }) =>
        list.length === 0 ? (
          <div className="card">
            <EmptyState icon="sessions" title={t('sessions.empty.title')} />
          </div>
        ) : (
          <div className="card flush table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('sessions.col.started')}</th>
                  <th scope="col">{t('sessions.col.token')}</th>
                  <th scope="col" className="num">
                    {t('sessions.col.energy')}
                  </th>
                  <th scope="col" className="num">
                    {t('sessions.col.duration')}
                  </th>
                  <th scope="col">{t('sessions.col.state')}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((s) => {
                  const seconds = elapsedSeconds(s);
                  return (
                    <tr key={s.transactionId}>
                      <td>
                        <Link href={`/sessions/${encodeURIComponent(s.stationId)}/${encodeURIComponent(s.transactionId)}`}>
                          {formatDateTime(s.startedAt)}
                        </Link>
                      </td>
                      <td className="mono">{s.idToken ?? '–'}</td>
                      <td className="num">{formatEnergy(s.energyWh ?? 0)}</td>
                      <td className="num">{seconds != null ? formatDuration(seconds) : '–'}</td>
                      <td>
                        <StatusPill status={s.state} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )
      }
    </Loaded>
  );
}

function Commands({ station }: { station: Station }) {
  const { api } = useApp();
  const toast = useToast();
  const protocol = commandProtocol(station);
  const [preset, setPreset] = useState<Preset>(PRESETS[0]);
  const [action, setAction] = useState(PRESETS[0].action[protocol]);
  const [payload, setPayload] = useState(JSON.stringify(PRESETS[0].payload[protocol], null, 2));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [pending, setPending] = useState(false);
  const commands = useResource(
    () => data(api.GET('/v1/operator/stations/{stationId}/commands', { params: { path: { stationId: station.stationId }, query: { limit: 20 } } })),
    [station.stationId],
    pending ? 1_500 : 10_000,
  );
  const unsettled = (commands.data?.commands ?? []).some((c) => !['Answered', 'Refused', 'Failed'].includes(c.state));
  if (pending !== unsettled && commands.data) setPending(unsettled);

  const choose = (key: string) => {
    const next = PRESETS.find((p) => p.key === key) ?? PRESETS[0];
    setPreset(next);
    setAction(next.action[protocol]);
    setPayload(JSON.stringify(next.payload[protocol], null, 2));
  };
  const send = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload) as Record<string, unknown>;
    } catch {
      setError(new Error(t('commands.badJson')));
      return;
    }
    setBusy(true);
    try {
      await data(
        api.POST('/v1/operator/stations/{stationId}/commands', {
          params: { path: { stationId: station.stationId } },
          body: { action: action.trim(), payload: body as Record<string, never> },
        }),
      );
      toast(t('commands.submitted', { action }));
      setPending(true);
      commands.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="detail-grid commands">
      <section className="card" aria-labelledby="send-title">
        <h2 id="send-title" className="card-title">
          {t('commands.send')}
        </h2>
        {!station.online && <p className="banner warn">{t('commands.offlineHint')}</p>}
        <form className="stack" onSubmit={send}>
          <div className="field">
            <label htmlFor="cmd-preset">{t('commands.action')}</label>
            <select id="cmd-preset" value={preset.key} onChange={(e) => choose(e.target.value)}>
              {PRESETS.map((p) => (
                <option key={p.key} value={p.key}>
                  {t(`commands.preset.${p.key}` as MessageKey)}
                  {p.action[protocol] && p.action[protocol] !== t(`commands.preset.${p.key}` as MessageKey) ? ` (${p.action[protocol]})` : ''}
                </option>
              ))}
            </select>
          </div>
          {preset.key === 'custom' && (
            <div className="field">
              <label htmlFor="cmd-action">{t('commands.customAction')}</label>
              <input id="cmd-action" required value={action} onChange={(e) => setAction(e.target.value)} placeholder="GetDiagnostics" />
            </div>
          )}
          <div className="field">
            <label htmlFor="cmd-payload">{t('commands.payload')}</label>
            <textarea id="cmd-payload" value={payload} onChange={(e) => setPayload(e.target.value)} spellCheck={false} aria-describedby="cmd-hint" />
            <span id="cmd-hint" className="hint">
              {t('commands.payloadHint', { protocol })}
            </span>
          </div>
          <ErrorBanner error={error} />
          <div>
            <Button type="submit" variant="primary" icon="send" busy={busy}>
              {t('commands.submit')}
            </Button>
          </div>
        </form>
      </section>
      <section className="card flush" aria-labelledby="recent-title">
        <div className="card-head pad">
          <h2 id="recent-title">{t('commands.recent')}</h2>
        </div>
        <Loaded resource={commands}>
          {({ commands: list }) =>
            list.length === 0 ? (
              <p className="muted pad-all">{t('commands.empty')}</p>
            ) : (
              <div className="table-wrap">
                <table data-testid="commands">
                  <thead>
                    <tr>
                      <th scope="col">{t('commands.col.sent')}</th>
                      <th scope="col">{t('commands.col.action')}</th>
                      <th scope="col">{t('commands.col.state')}</th>
                      <th scope="col">{t('commands.col.answer')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((c) => {
                      const status = answerStatus(c.answer);
                      return (
                        <tr key={c.commandId} data-command={c.action}>
                          <td className="nowrap muted">{formatTime(c.createdAt)}</td>
                          <td>
                            <strong>{c.action}</strong>
                          </td>
                          <td>
                            <StatusPill status={c.state} />
                          </td>
                          <td>
                            {c.state === 'Answered' ? (
                              <details>
                                <summary>{status ? <StatusPill status={status} /> : t('common.details')}</summary>
                                <pre className="json">{JSON.stringify(c.answer, null, 2)}</pre>
                              </details>
                            ) : c.errorCode ? (
                              <span className="small">
                                <strong>{c.errorCode}</strong> {c.errorDescription}
                              </span>
                            ) : (
                              '…'
                            )}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )
          }
        </Loaded>
      </section>
    </div>
  );
}

const toRows = (station: Station): ConnectorRow[] =>
  plugs(station)
    .filter((c) => c.type)
    .map((c) => ({
      evseId: c.evseId != null ? String(c.evseId) : '',
      connectorId: String(c.connectorId),
      type: c.type ?? 'cType2',
      maxKw: c.maxPowerW != null ? String(c.maxPowerW / 1000) : '',
    }));

function Settings({ station, onChanged }: { station: Station; onChanged: () => void }) {
  const { api } = useApp();
  const toast = useToast();
  const [, navigate] = useLocation();
  const [site, setSite] = useState(station.site ?? '');
  const [latitude, setLatitude] = useState(station.location ? String(station.location.latitude) : '');
  const [longitude, setLongitude] = useState(station.location ? String(station.location.longitude) : '');
  const [protocols, setProtocols] = useState<string[]>(station.protocols);
  const [registration, setRegistration] = useState(station.registration);
  const [connectors, setConnectors] = useState<ConnectorRow[]>(toRows(station));
  const [busy, setBusy] = useState<'save' | 'rotate' | 'delete' | null>(null);
  const [error, setError] = useState<unknown>();
  const [credentials, setCredentials] = useState<Schemas['StationCredentials'] | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState('');

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setBusy('save');
    setError(undefined);
    try {
      await data(
        api.PATCH('/v1/operator/stations/{stationId}', {
          params: { path: { stationId: station.stationId } },
          body: {
            site: site.trim() || null,
            location: latitude && longitude ? { latitude: Number(latitude), longitude: Number(longitude) } : null,
            protocols,
            registration,
            connectors: connectorInput(connectors),
          },
        }),
      );
      toast(t('settings.saved'));
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  const rotate = async () => {
    setBusy('rotate');
    setError(undefined);
    try {
      setCredentials(await data(api.POST('/v1/operator/stations/{stationId}/password', { params: { path: { stationId: station.stationId } } })));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  const decommission = async () => {
    setBusy('delete');
    setError(undefined);
    try {
      await data(api.DELETE('/v1/operator/stations/{stationId}', { params: { path: { stationId: station.stationId } } }));
      toast(t('settings.decommissioned', { id: station.stationId }));
      navigate('/stations');
    } catch (e) {
      setConfirming(false);
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  const toggle = (p: string) => setProtocols((list) => (list.includes(p) ? list.filter((x) => x !== p) : [...list, p]));

  return (
    <div className="stack" style={{ ['--gap' as string]: '20px' }}>
      <ErrorBanner error={error} />
      <section className="card" aria-labelledby="edit-title">
        <h2 id="edit-title" className="card-title">
          {t('settings.edit')}
        </h2>
        <form className="stack" onSubmit={save}>
          <div className="form-grid">
            <div className="field">
              <label htmlFor="set-site">{t('register.site')}</label>
              <input id="set-site" maxLength={100} value={site} onChange={(e) => setSite(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="set-lat">{t('register.latitude')}</label>
              <input id="set-lat" inputMode="decimal" value={latitude} onChange={(e) => setLatitude(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="set-lon">{t('register.longitude')}</label>
              <input id="set-lon" inputMode="decimal" value={longitude} onChange={(e) => setLongitude(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="set-reg">{t('station.registration')}</label>
              <select id="set-reg" value={registration} onChange={(e) => setRegistration(e.target.value)}>
                {['Accepted', 'Pending', 'Rejected'].map((r) => (
                  <option key={r} value={r}>
                    {t(`status.${r}` as MessageKey)}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <fieldset className="row">
            <legend>{t('register.protocols')}</legend>
            {['ocpp1.6', 'ocpp2.0.1'].map((p) => (
              <label key={p} className="check">
                <input type="checkbox" checked={protocols.includes(p)} onChange={() => toggle(p)} />
                {p}
              </label>
            ))}
          </fieldset>
          <ConnectorsEditor rows={connectors} onChange={setConnectors} evse={protocols.includes('ocpp2.0.1') && !protocols.includes('ocpp1.6')} />
          <div>
            <Button type="submit" variant="primary" busy={busy === 'save'}>
              {t('common.save')}
            </Button>
          </div>
        </form>
      </section>
      <section className="card row between" aria-labelledby="rotate-title">
        <div className="grow">
          <h2 id="rotate-title">{t('settings.rotate')}</h2>
          <p className="muted">{t('settings.rotateText')}</p>
        </div>
        <Button icon="key" busy={busy === 'rotate'} onClick={rotate}>
          {t('settings.rotateButton')}
        </Button>
      </section>
      <section className="card row between danger-zone" aria-labelledby="decom-title">
        <div className="grow">
          <h2 id="decom-title">{t('settings.decommission')}</h2>
          <p className="muted">{t('settings.decommissionText')}</p>
        </div>
        <Button variant="danger-outline" icon="trash" onClick={() => setConfirming(true)}>
          {t('settings.decommissionButton')}
        </Button>
      </section>
      <PasswordDialog credentials={credentials} onClose={() => setCredentials(null)} />
      <Dialog open={confirming} title={t('settings.decommissionButton')} onClose={() => setConfirming(false)}>
        <p>{t('settings.decommissionText')}</p>
        <div className="field">
          <label htmlFor="decom-id">{t('settings.decommissionConfirm', { id: station.stationId })}</label>
          <input id="decom-id" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
        </div>
        <div className="dialog-actions">
          <Button onClick={() => setConfirming(false)}>{t('common.cancel')}</Button>
          <Button variant="danger" icon="trash" disabled={typed !== station.stationId} busy={busy === 'delete'} onClick={decommission}>
            {t('settings.decommissionButton')}
          </Button>
        </div>
      </Dialog>
    </div>
  );
}

export function StationDetail() {
  const { id } = useParams<{ id: string }>();
  const { api } = useApp();
  const [tab, setTab] = useState<TabKey>('overview');
  const station = useResource(() => data(api.GET('/v1/operator/stations/{stationId}', { params: { path: { stationId: id } } })), [id], 5_000);
  return (
    <div className="page wide">
      <Link href="/stations" className="back">
        <Icon name="back" size={16} /> {t('console.nav.stations')}
      </Link>
      <Loaded resource={station}>
        {(s) => (
          <>
            <div className="page-head">
              <div>
                <h1>{s.stationId}</h1>
                <p>
                  {s.site ?? ''}
                  {s.connection && (
                    <span className="muted">
                      {s.site ? ' · ' : ''}
                      {s.connection.protocol}
                    </span>
                  )}
                </p>
              </div>
              <StatusPill status={s.online ? 'Available' : 'Offline'} label={s.online ? t('common.online') : t('common.offline')} />
            </div>
            <Tabs<TabKey>
              label={s.stationId}
              current={tab}
              onChange={setTab}
              tabs={[
                { key: 'overview', label: t('station.tab.overview') },
                { key: 'history', label: t('station.tab.history') },
                { key: 'sessions', label: t('station.tab.sessions') },
                { key: 'commands', label: t('station.tab.commands') },
                { key: 'settings', label: t('station.tab.settings') },
              ]}
            >
              {tab === 'overview' && <Overview station={s} />}
              {tab === 'history' && <StatusHistory stationId={s.stationId} />}
              {tab === 'sessions' && <StationSessions stationId={s.stationId} />}
              {tab === 'commands' && <Commands station={s} />}
              {tab === 'settings' && <Settings station={s} onChanged={station.reload} />}
            </Tabs>
          </>
        )}
      </Loaded>
    </div>
  );
}
