import { useId } from 'react';
import { useApp } from '../shared/context';
import { connectorLabel, t } from '../shared/i18n';
import { CONNECTOR_TYPES } from '../shared/model/stations';
import { Button } from '../shared/ui/Button';
import { CopyButton } from '../shared/ui/CopyButton';
import { Dialog } from '../shared/ui/Dialog';

export interface ConnectorRow {
  evseId: string;
  connectorId: string;
  type: string;
  maxKw: string;
}

export const newConnector = (n: number): ConnectorRow => ({ evseId: '', connectorId: String(n), type: 'cType2', maxKw: '22' });

/** The API's connector input from the form's rows (kW to W). */
export function connectorInput(rows: ConnectorRow[]) {
  return rows.map((r) => ({
    evseId: r.evseId ? Number(r.evseId) : null,
    connectorId: Number(r.connectorId),
    type: r.type,
    maxPowerW: Math.round(Number(r.maxKw) * 1000),
  }));
}

/** Declared connectors: EVSE (2.0.1), connector, plug and maximum power. */
export function ConnectorsEditor({ rows, onChange, evse }: { rows: ConnectorRow[]; onChange: (rows: ConnectorRow[]) => void; evse: boolean }) {
  const id = useId();
  const set = (i: number, change: Partial<ConnectorRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...change } : r)));
  return (
    <fieldset className="stack" style={{ ['--gap' as string]: '10px' }}>
      <legend>{t('register.connectors')}</legend>
      {rows.map((r, i) => (
        <div key={i} className="connector-row">
          {evse && (
            <div className="field">
              <label htmlFor={`${id}-evse-${i}`}>{t('register.evse')}</label>
              <input id={`${id}-evse-${i}`} inputMode="numeric" value={r.evseId} onChange={(e) => set(i, { evseId: e.target.value })} />
            </div>
          )}
          <div className="field">
            <label htmlFor={`${id}-conn-${i}`}>{t('common.connector')}</label>
            <input
              id={`${id}-conn-${i}`}
              inputMode="numeric"
              required
              value={r.connectorId}
              onChange={(e) => set(i, { connectorId: e.target.value })}
            />
          </div>
          <div className="field grow">
            <label htmlFor={`${id}-type-${i}`}>{t('register.connectorType')}</label>
            <select id={`${id}-type-${i}`} value={r.type} onChange={(e) => set(i, { type: e.target.value })}>
              {CONNECTOR_TYPES.map((ty) => (
                <option key={ty} value={ty}>
                  {connectorLabel(ty)} ({ty})
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-kw-${i}`}>{t('register.maxPower')}</label>
            <input
              id={`${id}-kw-${i}`}
              inputMode="decimal"
              required
              value={r.maxKw}
              onChange={(e) => set(i, { maxKw: e.target.value })}
            />
          </div>
          <Button
            variant="ghost"
            icon="trash"
            aria-label={t('register.removeConnector', { n: r.connectorId })}
            onClick={() => onChange(rows.filter((_, j) => j !== i))}
          />
        </div>
      ))}
      <div>
        <Button size="small" icon="plus" onClick={() => onChange([...rows, newConnector(rows.length + 1)])}>
          {t('register.addConnector')}
        </Button>
      </div>
    </fieldset>
  );
}

/** A station's password, shown this once, with a copy button. */
export function PasswordDialog({ credentials, onClose }: { credentials: { stationId: string; password: string } | null; onClose: () => void }) {
  const { config } = useApp();
  return (
    <Dialog open={credentials != null} title={t('password.title')} onClose={onClose}>
      {credentials && (
        <>
          <p className="banner warn">{t('password.once')}</p>
          <dl className="kv">
            <dt>{t('password.user')}</dt>
            <dd className="mono">{credentials.stationId}</dd>
          </dl>
          <div>
            <span className="label small muted">{t('password.value')}</span>
            <div className="secret">
              <code data-testid="station-password">{credentials.password}</code>
              <CopyButton value={credentials.password} />
            </div>
          </div>
          {config.ocppUrl && (
            <p className="small muted">
              {t('password.ocppUrl')}
              <span className="mono">
                {config.ocppUrl}
                {credentials.stationId}
              </span>
            </p>
          )}
          <div className="dialog-actions">
            <Button variant="primary" onClick={onClose}>
              {t('password.done')}
            </Button>
          </div>
        </>
      )}
    </Dialog>
  );
}
