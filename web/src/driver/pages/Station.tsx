import { useState } from 'react';
import { Link, useLocation, useParams } from 'wouter';
import { data, type Schemas } from '../../shared/api/client';
import { useApp } from '../../shared/context';
import { useResource } from '../../shared/hooks/useResource';
import { connectorLabel, t } from '../../shared/i18n';
import { formatPower, formatRelative } from '../../shared/i18n/format';
import { connectorName, plugs, stationName } from '../../shared/model/stations';
import { Button } from '../../shared/ui/Button';
import { Icon } from '../../shared/ui/Icon';
import { ErrorBanner, Loaded } from '../../shared/ui/States';
import { StatusPill } from '../../shared/ui/StatusPill';
import { PriceInfo } from '../billing';
import { PayOption } from '../payments';

type StationView = Schemas['StationView'];
type Command = Schemas['CommandView'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Follows a command until the station answered, refused or failed it. */
export async function settle(api: ReturnType<typeof useApp>['api'], command: Command, timeoutMs = 45_000): Promise<Command> {
  const until = Date.now() + timeoutMs;
  let current = command;
  while (!['Answered', 'Refused', 'Failed'].includes(current.state) && Date.now() < until) {
    await sleep(700);
    const next = await api.GET('/v1/commands/{stationId}/{commandId}', {
      params: { path: { stationId: command.stationId, commandId: command.commandId } },
    });
    // 404 for a moment: the command is recorded within a second of its submission.
    if (next.data) current = next.data;
  }
  return current;
}

type Progress = { step: 'asking' | 'accepted' | 'waiting' } | { step: 'failed'; message: string } | { step: 'slow' };

function StartCharging({ station }: { station: StationView }) {
  const { api } = useApp();
  const [, navigate] = useLocation();
  const tokens = useResource(() => data(api.GET('/v1/me/tokens', {})), []);
  const usable = (tokens.data?.tokens ?? []).filter((tk) => tk.status === 'Accepted');
  const [token, setToken] = useState('');
  const [connector, setConnector] = useState('');
  const [progress, setProgress] = useState<Progress>();
  const [error, setError] = useState<unknown>();
  const chosenToken = token || usable[0]?.idToken || '';
  const connectors = plugs(station);

  const start = async () => {
    setError(undefined);
    setProgress({ step: 'asking' });
    const since = Date.now() - 60_000;
    try {
      const submitted = await data(
        api.POST('/v1/charging/start', {
          body: { stationId: station.stationId, idToken: chosenToken, connector: connector ? Number(connector) : null },
        }),
      );
      const done = await settle(api, submitted);
      const answer = (done.answer ?? {}) as Record<string, unknown>;
      if (done.state !== 'Answered' || answer.status !== 'Accepted') {
        const message =
          done.state === 'Answered'
            ? t('station.start.rejected', { status: String(answer.status ?? '') })
            : t('station.start.failed', { reason: done.errorDescription ?? done.errorCode ?? done.state });
        setProgress({ step: 'failed', message });
        return;
      }
      setProgress({ step: 'accepted' });
      await sleep(800);
      setProgress({ step: 'waiting' });
      const until = Date.now() + 90_000;
      while (Date.now() < until) {
        const active = await data(api.GET('/v1/me/sessions', { params: { query: { stationId: station.stationId, state: 'active' } } }));
        const mine = active.sessions.find((s) => !s.startedAt || new Date(s.startedAt).getTime() >= since);
        if (mine) {
          navigate(`/sessions/${encodeURIComponent(mine.stationId)}/${encodeURIComponent(mine.transactionId)}`);
          return;
        }
        await sleep(1500);
      }
      setProgress({ step: 'slow' });
    } catch (e) {
      setProgress(undefined);
      setError(e);
    }
  };

  const busy = progress && ['asking', 'accepted', 'waiting'].includes(progress.step);
  return (
    <section className="card stack" aria-labelledby="start-title">
      <h2 id="start-title">{t('station.start.title')}</h2>
      {!station.online && (
        <div className="banner warn">
          <Icon name="wifiOff" size={18} />
          {t('station.offline')}
        </div>
      )}
      <Loaded resource={tokens} lines={2}>
        {() =>
          usable.length === 0 ? (
            <p className="muted">{t('station.start.noTokens')}</p>
          ) : (
            <div className="stack">
              <div className="form-grid">
                <div className="field">
                  <label htmlFor="start-token">{t('station.start.token')}</label>
                  <select id="start-token" value={chosenToken} onChange={(e) => setToken(e.target.value)} disabled={busy}>
                    {usable.map((tk) => (
                      <option key={tk.idToken} value={tk.idToken}>
                        {tk.idToken}
                      </option>
                    ))}
                  </select>
                </div>
                {connectors.length > 1 && (
                  <div className="field">
                    <label htmlFor="start-connector">{t('station.start.connector')}</label>
                    <select id="start-connector" value={connector} onChange={(e) => setConnector(e.target.value)} disabled={busy}>
                      <option value="">{t('station.start.anyConnector')}</option>
                      {connectors.map((c) => (
                        <option key={`${c.evseId}-${c.connectorId}`} value={c.evseId ?? c.connectorId} disabled={c.status !== 'Available'}>
                          {connectorName(c)} · {connectorLabel(c.type)} · {formatPower(c.maxPowerW)}
                        </option>
                      ))}
                    </select>
                  </div>
                )}
              </div>
              <Button variant="primary" size="large" block icon="bolt" busy={busy} disabled={!station.online} onClick={start}>
                {t('station.start.button')}
              </Button>
              {progress && (
                <div
                  className={`banner ${progress.step === 'failed' ? '' : progress.step === 'slow' ? 'warn' : 'info'}`}
                  role={progress.step === 'failed' ? 'alert' : 'status'}
                >
                  {progress.step === 'failed'
                    ? progress.message
                    : progress.step === 'slow'
                      ? t('station.start.slow')
                      : t(`station.start.${progress.step}`)}
                </div>
              )}
              <ErrorBanner error={error} />
              <PayOption stationId={station.stationId} />
            </div>
          )
        }
      </Loaded>
    </section>
  );
}

export function Station() {
  const { id } = useParams<{ id: string }>();
  const { api } = useApp();
  const station = useResource(() => data(api.GET('/v1/stations/{stationId}', { params: { path: { stationId: id } } })), [id], 10_000);
  return (
    <div className="page narrow">
      <Link href="/" className="back">
        <Icon name="back" size={16} /> {t('driver.nav.find')}
      </Link>
      <Loaded resource={station}>
        {(s) => (
          <div className="stack">
            <header className="station-head">
              <div>
                <h1>{stationName(s)}</h1>
                <p className="muted">
                  <span className="mono">{s.stationId}</span>
                  {s.location && (
                    <>
                      {' · '}
                      <a
                        href={`https://www.openstreetmap.org/?mlat=${s.location.latitude}&mlon=${s.location.longitude}#map=18/${s.location.latitude}/${s.location.longitude}`}
                        target="_blank"
                        rel="noreferrer"
                      >
                        <Icon name="pin" size={14} /> {t('station.directions')}
                      </a>
                    </>
                  )}
                </p>
              </div>
              <StatusPill status={s.online ? 'Available' : 'Offline'} label={s.online ? t('common.online') : t('common.offline')} />
            </header>
            <section className="card flush" aria-labelledby="connectors-title">
              <div className="card-head pad">
                <h2 id="connectors-title">{t('station.connectors')}</h2>
                <span className="muted small">{t('common.updatedLive')}</span>
              </div>
              <ul className="list connectors">
                {plugs(s).map((c) => (
                  <li key={`${c.evseId}-${c.connectorId}`} className="list-item">
                    <span className="plug-icon" aria-hidden="true">
                      <Icon name="plug" size={22} />
                    </span>
                    <span className="grow">
                      <strong>{connectorLabel(c.type)}</strong>
                      <span className="muted small block">
                        {connectorName(c)}
                        {c.maxPowerW != null && ` · ${formatPower(c.maxPowerW)}`}
                      </span>
                    </span>
                    <span className="stack end" style={{ ['--gap' as string]: '2px' }}>
                      <StatusPill status={s.online ? c.status : 'Offline'} />
                      {c.since && s.online && <span className="muted small">{formatRelative(c.since)}</span>}
                    </span>
                  </li>
                ))}
              </ul>
            </section>
            <PriceInfo stationId={s.stationId} />
            <StartCharging station={s} />
          </div>
        )}
      </Loaded>
    </div>
  );
}
