import { useState, type FormEvent } from 'react';
import { data } from '../../shared/api/client';
import { useApp } from '../../shared/context';
import { useResource } from '../../shared/hooks/useResource';
import { t } from '../../shared/i18n';
import { formatDateTime } from '../../shared/i18n/format';
import { Button } from '../../shared/ui/Button';
import { Icon } from '../../shared/ui/Icon';
import { EmptyState, ErrorBanner, Loaded } from '../../shared/ui/States';
import { StatusPill } from '../../shared/ui/StatusPill';
import { useToast } from '../../shared/ui/Toast';
import { PaymentMethods } from '../payments';

/** Redeem a claim code: the card its organisation issued becomes the driver's. */
function RedeemClaimCode({ onRedeemed }: { onRedeemed: () => void }) {
  const { api } = useApp();
  const toast = useToast();
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const token = await data(api.POST('/v1/me/tokens', { body: { claimCode: code.trim() } }));
      toast(t('tokens.claim.added', { token: token.idToken }));
      setCode('');
      onRedeemed();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card stack" onSubmit={submit}>
      <div className="field">
        <label htmlFor="claim-code">{t('tokens.claim.label')}</label>
        <input id="claim-code" required autoComplete="off" value={code} onChange={(e) => setCode(e.target.value)} aria-describedby="claim-hint" />
        <span id="claim-hint" className="hint">
          {t('tokens.claim.hint')}
        </span>
      </div>
      <ErrorBanner error={error} />
      <Button type="submit" variant="primary" busy={busy}>
        {t('tokens.claim.submit')}
      </Button>
    </form>
  );
}

export function Tokens() {
  const { api } = useApp();
  const tokens = useResource(() => data(api.GET('/v1/me/tokens', {})), []);
  return (
    <div className="page narrow">
      <div className="page-head">
        <div>
          <h1>{t('tokens.title')}</h1>
          <p>{t('tokens.subtitle')}</p>
        </div>
      </div>
      <Loaded resource={tokens}>
        {(page) =>
          page.tokens.length === 0 ? (
            <div className="card">
              <EmptyState icon="card" title={t('tokens.empty.title')}>
                {t('tokens.empty.text')}
              </EmptyState>
            </div>
          ) : (
            <ul className="token-cards">
              {page.tokens.map((tk) => (
                <li key={tk.idToken} className="token-card">
                  <div className="row between">
                    <Icon name="card" size={26} />
                    <StatusPill status={tk.status} />
                  </div>
                  <span className="token-id mono">{tk.idToken}</span>
                  <span className="small">{tk.expiry ? t('tokens.expires', { date: formatDateTime(tk.expiry) }) : t('tokens.noExpiry')}</span>
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
      <RedeemClaimCode onRedeemed={tokens.reload} />
      <PaymentMethods />
    </div>
  );
}
