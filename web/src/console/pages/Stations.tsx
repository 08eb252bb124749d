import { useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { data, type Schemas } from '../../shared/api/client';
import { useApp } from '../../shared/context';
import { useResource } from '../../shared/hooks/useResource';
import { t } from '../../shared/i18n';
import { plugs, stationName } from '../../shared/model/stations';
import { Button } from '../../shared/ui/Button';
import { Dialog } from '../../shared/ui/Dialog';
import { EmptyState, ErrorBanner, Loaded } from '../../shared/ui/States';
import { StatusPill, toneOf } from '../../shared/ui/StatusPill';
import { useToast } from '../../shared/ui/Toast';
import { ConnectorsEditor, connectorInput, newConnector, PasswordDialog, type ConnectorRow } from '../components';
import { allStations } from '../data';

type Credentials = Schemas['StationCredentials'];

function RegisterDialog({ open, onClose, onRegistered }: { open: boolean; onClose: () => void; onRegistered: (c: Credentials) => void }) {
  const { api } = useApp();
  const [id, setId] = useState('');
  const [protocols, setProtocols] = useState<string[]>(['ocpp1.6', 'ocpp2.0.1']);
  const [site, setSite] = useState('');
  const [latitude, setLatitude] = useState('');
  const [longitude, setLongitude] = useState('');
  const [connectors, setConnectors] = useState<ConnectorRow[]>([newConnector(1)]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  const toggle = (p: string) => setProtocols((list) => (list.includes(p) ? list.filter((x) => x !== p) : [...list, p]));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!protocols.length) {
      setError(new Error(t('register.needProtocol')));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const credentials = await data(
        api.POST('/v1/operator/stations', {
          body: {
            stationId: id.trim(),
            protocols,
            site: site.trim() || null,
            location: latitude && longitude ? { latitude: Number(latitude), longitude: Number(longitude) } : null,
            connectors: connectorInput(connectors),
          },
        }),
      );
      onRegistered(credentials);
      setId('');
      setSite('');
      setLatitude('');
      setLongitude('');
      setConnectors([newConnector(1)]);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} title={t('register.title')} onClose={onClose}>
      <form className="stack" onSubmit={submit}>
        <div className="field">
          <label htmlFor="reg-id">{t('register.id')}</label>
          <input id="reg-id" required maxLength={48} value={id} onChange={(e) => setId(e.target.value)} aria-describedby="reg-id-hint" />
          <span id="reg-id-hint" className="hint">
            {t('register.idHint')}
          </span>
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
        <div className="field">
          <label htmlFor="reg-site">{t('register.site')}</label>
          <input id="reg-site" maxLength={100} value={site} onChange={(e) => setSite(e.target.value)} />
        </div>
        <div className="form-grid">
          <div className="field">
            <label htmlFor="reg-lat">{t('register.latitude')}</label>
            <input id="reg-lat" inputMode="decimal" value={latitude} onChange={(e) => setLatitude(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="reg-lon">{t('register.longitude')}</label>
            <input id="reg-lon" inputMode="decimal" value={longitude} onChange={(e) => setLongitude(e.target.value)} />
          </div>
        </div>
        <ConnectorsEditor rows={connectors} onChange={setConnectors} evse={protocols.includes('ocpp2.0.1') && !protocols.includes('ocpp1.6')} />
        <ErrorBanner error={error} />
        <div className="dialog-actions">
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" busy={busy}>
            {t('register.submit')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

export function Stations() {
  const { api } = useApp();
  const [, navigate] = useLocation();
  const toast = useToast();
  const stations = useResource(() => allStations(api), [], 10_000);
  const [registering, setRegistering] = useState(false);
  const [credentials, setCredentials] = useState<Credentials | null>(null);

  return (
    <div className="page wide">
      <div className="page-head">
        <div>
          <h1>{t('stations.title')}</h1>
          <p>{t('stations.subtitle')}</p>
        </div>
        <Button variant="primary" icon="plus" onClick={() => setRegistering(true)}>
          {t('stations.register')}
        </Button>
      </div>
      <Loaded resource={stations}>
        {({ stations: list }) =>
          list.length === 0 ? (
            <div className="card">
              <EmptyState
                icon="station"
                title={t('stations.empty.title')}
                action={
                  <Button variant="primary" icon="plus" onClick={() => setRegistering(true)}>
                    {t('stations.register')}
                  </Button>
                }
              >
                {t('stations.empty.text')}
              </EmptyState>
            </div>
          ) : (
            <div className="card flush table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('stations.col.station')}</th>
                    <th scope="col">{t('stations.col.status')}</th>
                    <th scope="col">{t('stations.col.connectors')}</th>
                    <th scope="col" className="hide-mobile">
                      {t('stations.col.protocol')}
                    </th>
                    <th scope="col" className="hide-mobile">
                      {t('stations.col.registration')}
                    </th>
                    <th scope="col" className="hide-mobile">
                      {t('stations.col.lastBoot')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((s) => (
                    <tr key={s.stationId} className="link-row" onClick={() => navigate(`/stations/${encodeURIComponent(s.stationId)}`)}>
                      <td>
                        <Link href={`/stations/${encodeURIComponent(s.stationId)}`}>{s.stationId}</Link>
                        {s.site && <span className="muted small block">{stationName(s)}</span>}
                      </td>
                      <td>
                        <StatusPill status={s.online ? 'Available' : 'Offline'} label={s.online ? t('common.online') : t('common.offline')} />
                      </td>
                      <td>
                        <span className="dots">
                          {plugs(s).map((c) => (
                            <span
                              key={`${c.evseId}-${c.connectorId}`}
                              className={`dot tone-${s.online ? toneOf(c.status) : 'off'}`}
                              title={`${c.connectorId}: ${c.status}`}
                            />
                          ))}
                          <span className="sr-only">{plugs(s).map((c) => `${c.connectorId}: ${c.status}`).join(', ')}</span>
                        </span>
                      </td>
                      <td className="hide-mobile mono">{s.connection?.protocol ?? s.protocols.join(', ')}</td>
                      <td className="hide-mobile">
                        <StatusPill status={s.registration} />
                      </td>
                      <td className="hide-mobile muted">{s.boot ? `${s.boot.vendor} ${s.boot.model}` : '–'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loaded>
      <RegisterDialog
        open={registering}
        onClose={() => setRegistering(false)}
        onRegistered={(c) => {
          setRegistering(false);
          setCredentials(c);
          stations.reload();
          toast(t('register.done', { id: c.stationId }));
        }}
      />
      <PasswordDialog
        credentials={credentials}
        onClose={() => {
          const id = credentials?.stationId;
          setCredentials(null);
          if (id) navigate(`/stations/${encodeURIComponent(id)}`);
        }}
      />
    </div>
  );
}
