import { t } from '../../shared/i18n';
import { Icon } from '../../shared/ui/Icon';
import { Logo } from '../Logo';
import { PayPanel } from './Pay';

/** Before sign-in: what the app does, and the QR code's pay page, which needs no account. */
export function Welcome({ onSignIn }: { onSignIn: () => void }) {
  const pay = /^\/pay\/([^/]+)$/.exec(location.pathname);
  if (pay) {
    const stationId = decodeURIComponent(pay[1]);
    return (
      <main className="welcome">
        <div className="welcome-inner">
          <Logo />
          <PayPanel
            stationId={stationId}
            onSignIn={() => {
              history.replaceState(null, '', `/stations/${encodeURIComponent(stationId)}`);
              onSignIn();
            }}
          />
        </div>
      </main>
    );
  }
  return (
    <main className="welcome">
      <div className="welcome-inner">
        <Logo />
        <div className="welcome-art" aria-hidden="true">
          <Icon name="bolt" size={54} />
        </div>
        <h1>{t('driver.welcome.title')}</h1>
        <p className="lead">{t('driver.tagline')}</p>
        <p className="muted small">{t('driver.welcome.points')}</p>
        <button type="button" className="btn primary large block" onClick={onSignIn}>
          {t('auth.signIn')}
        </button>
      </div>
    </main>
  );
}
