import { Link, useParams } from 'wouter';
import { t } from '../../shared/i18n';
import { Icon } from '../../shared/ui/Icon';

/**
 * The page a pile's QR code opens (`/pay/<stationId>`), also without an account. Ad-hoc payment
 * (issue 12) plugs in here; until then it leads to charging with a card or app token.
 */
export function PayPanel({ stationId, onSignIn }: { stationId: string; onSignIn?: () => void }) {
  return (
    <section className="card stack pay" aria-labelledby="pay-title">
      <span className="state-icon" aria-hidden="true">
        <Icon name="bolt" size={26} />
      </span>
      <h1 id="pay-title">{t('pay.title', { station: stationId })}</h1>
      <p className="muted">{t('pay.notOffered')}</p>
      {onSignIn ? (
        <button type="button" className="btn primary large block" onClick={onSignIn}>
          {t('pay.signIn')}
        </button>
      ) : (
        <Link className="btn primary large block" href={`/stations/${encodeURIComponent(stationId)}`}>
          {t('station.start.title')}
        </Link>
      )}
    </section>
  );
}

export function Pay() {
  const { stationId } = useParams<{ stationId: string }>();
  return (
    <div className="page narrow">
      <PayPanel stationId={stationId} />
    </div>
  );
}
