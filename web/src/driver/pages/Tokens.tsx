import { data } from '../../shared/api/client';
import { useApp } from '../../shared/context';
import { useResource } from '../../shared/hooks/useResource';
import { t } from '../../shared/i18n';
import { formatDateTime } from '../../shared/i18n/format';
import { Icon } from '../../shared/ui/Icon';
import { EmptyState, Loaded } from '../../shared/ui/States';
import { StatusPill } from '../../shared/ui/StatusPill';
import { PaymentMethods } from '../payments';

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
      <PaymentMethods />
    </div>
  );
}
