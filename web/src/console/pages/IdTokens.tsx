import { useState, type FormEvent } from 'react';
import { data, type Schemas } from '../../shared/api/client';
import { useApp } from '../../shared/context';
import { useResource } from '../../shared/hooks/useResource';
import { t, type MessageKey } from '../../shared/i18n';
import { formatDateTime } from '../../shared/i18n/format';
import { Button } from '../../shared/ui/Button';
import { Dialog } from '../../shared/ui/Dialog';
import { EmptyState, ErrorBanner, Loaded } from '../../shared/ui/States';
import { StatusPill } from '../../shared/ui/StatusPill';
import { useToast } from '../../shared/ui/Toast';

type Token = Schemas['OperatorTokenView'];
const STATUSES = ['Accepted', 'Blocked', 'Expired', 'Invalid'];

/** `datetime-local` value of an instant, in the user's time zone. */
function localInput(iso?: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function TokenDialog({ token, open, onClose, onSaved }: { token: Token | null; open: boolean; onClose: () => void; onSaved: () => void }) {
  const { api } = useApp();
  const toast = useToast();
  const [idToken, setIdToken] = useState(token?.idToken ?? '');
  const [release, setRelease] = useState(false);
  const [status, setStatus] = useState(token?.status ?? 'Accepted');
  const [expiry, setExpiry] = useState(localInput(token?.expiry));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const expiryIso = expiry ? new Date(expiry).toISOString() : null;
    try {
      if (token) {
        await data(
          api.PATCH('/v1/operator/tokens/{idToken}', {
            params: { path: { idToken: token.idToken } },
            body: release ? { owner: null, status, expiry: expiryIso } : { status, expiry: expiryIso },
          }),
        );
      } else {
        await data(
          api.POST('/v1/operator/tokens', {
            body: { idToken: idToken.trim(), status, expiry: expiryIso },
          }),
        );
      }
      toast(t('idtokens.saved', { token: token?.idToken ?? idToken.trim() }));
      onSaved();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} title={token ? token.idToken : t('idtokens.add')} onClose={onClose}>
      <form className="stack" onSubmit={submit}>
        {!token && (
          <div className="field">
            <label htmlFor="tok-id">{t('idtokens.token')}</label>
            <input id="tok-id" required maxLength={36} value={idToken} onChange={(e) => setIdToken(e.target.value)} aria-describedby="tok-hint" />
            <span id="tok-hint" className="hint">
              {t('idtokens.tokenHint')}
            </span>
          </div>
        )}
        {token?.owner && (
          <label className="row" htmlFor="tok-release">
            <input id="tok-release" type="checkbox" checked={release} onChange={(e) => setRelease(e.target.checked)} />
            {t('idtokens.release', { owner: token.owner })}
          </label>
        )}
        <div className="form-grid">
          <div className="field">
            <label htmlFor="tok-status">{t('idtokens.status')}</label>
            <select id="tok-status" value={status} onChange={(e) => setStatus(e.target.value)}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t(`status.${s}` as MessageKey)}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="tok-expiry">{t('idtokens.expiry')}</label>
            <input id="tok-expiry" type="datetime-local" value={expiry} onChange={(e) => setExpiry(e.target.value)} />
          </div>
        </div>
        <ErrorBanner error={error} />
        <div className="dialog-actions">
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" busy={busy}>
            {t('common.save')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

type ClaimCode = Schemas['ClaimCodeView'];

/** A claim code, shown this once: the driver redeems it in the app to make the token theirs. */
function ClaimCodeDialog({ code, onClose }: { code: ClaimCode; onClose: () => void }) {
  return (
    <Dialog open title={t('idtokens.claim.title', { token: code.idToken })} onClose={onClose}>
      <p>{t('idtokens.claim.text')}</p>
      <p className="mono token-id" data-testid="claim-code">
        {code.claimCode}
      </p>
      <p className="small">{t('idtokens.claim.expires', { date: formatDateTime(code.expiresAt) })}</p>
      <div className="dialog-actions">
        <Button variant="primary" onClick={onClose}>
          {t('common.close')}
        </Button>
      </div>
    </Dialog>
  );
}

export function IdTokens() {
  const { api } = useApp();
  const toast = useToast();
  const tokens = useResource(() => data(api.GET('/v1/operator/tokens', { params: { query: { limit: 100 } } })), []);
  const [editing, setEditing] = useState<{ token: Token | null } | null>(null);
  const [deleting, setDeleting] = useState<Token | null>(null);
  const [error, setError] = useState<unknown>();
  const [claim, setClaim] = useState<ClaimCode | null>(null);
  const makeClaimCode = async (tk: Token) => {
    setError(undefined);
    try {
      setClaim(await data(api.POST('/v1/operator/tokens/{idToken}/claim-code', { params: { path: { idToken: tk.idToken } } })));
    } catch (e) {
      setError(e);
    }
  };
  const remove = async () => {
    if (!deleting) return;
    try {
      await data(api.DELETE('/v1/operator/tokens/{idToken}', { params: { path: { idToken: deleting.idToken } } }));
      toast(t('idtokens.deleted', { token: deleting.idToken }));
      tokens.reload();
    } catch (e) {
      setError(e);
    } finally {
      setDeleting(null);
    }
  };
  return (
    <div className="page wide">
      <div className="page-head">
        <div>
          <h1>{t('idtokens.title')}</h1>
          <p>{t('idtokens.subtitle')}</p>
        </div>
        <Button variant="primary" icon="plus" onClick={() => setEditing({ token: null })}>
          {t('idtokens.add')}
        </Button>
      </div>
      <ErrorBanner error={error} />
      <Loaded resource={tokens}>
        {(page) =>
          page.tokens.length === 0 ? (
            <div className="card">
              <EmptyState icon="token" title={t('idtokens.empty.title')}>
                {t('idtokens.empty.text')}
              </EmptyState>
            </div>
          ) : (
            <div className="card flush table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('idtokens.col.token')}</th>
                    <th scope="col">{t('idtokens.col.owner')}</th>
                    <th scope="col">{t('idtokens.col.status')}</th>
                    <th scope="col" className="hide-mobile">
                      {t('idtokens.col.expiry')}
                    </th>
                    <th scope="col">
                      <span className="sr-only">{t('common.edit')}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {page.tokens.map((tk) => (
                    <tr key={tk.idToken}>
                      <td className="mono">{tk.idToken}</td>
                      <td>{tk.owner ?? '–'}</td>
                      <td>
                        <StatusPill status={tk.effectiveStatus} />
                      </td>
                      <td className="hide-mobile">{tk.expiry ? formatDateTime(tk.expiry) : '–'}</td>
                      <td className="num nowrap">
                        <Button size="small" variant="ghost" onClick={() => makeClaimCode(tk)} aria-label={`${t('idtokens.claim.make')} ${tk.idToken}`}>
                          {t('idtokens.claim.make')}
                        </Button>
                        <Button size="small" variant="ghost" onClick={() => setEditing({ token: tk })} aria-label={`${t('common.edit')} ${tk.idToken}`}>
                          {t('common.edit')}
                        </Button>
                        <Button size="small" variant="ghost" icon="trash" onClick={() => setDeleting(tk)} aria-label={`${t('common.delete')} ${tk.idToken}`} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loaded>
      {editing && (
        <TokenDialog
          key={editing.token?.idToken ?? 'new'}
          token={editing.token}
          open
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            tokens.reload();
          }}
        />
      )}
      {claim && <ClaimCodeDialog code={claim} onClose={() => setClaim(null)} />}
      <Dialog open={deleting != null} title={t('common.delete')} onClose={() => setDeleting(null)}>
        <p>{t('idtokens.deleteConfirm', { token: deleting?.idToken ?? '' })}</p>
        <div className="dialog-actions">
          <Button onClick={() => setDeleting(null)}>{t('common.cancel')}</Button>
          <Button variant="danger" icon="trash" onClick={remove}>
            {t('common.delete')}
          </Button>
        </div>
      </Dialog>
    </div>
  );
}
