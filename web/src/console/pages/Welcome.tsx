import { t } from '../../shared/i18n';
import { Icon } from '../../shared/ui/Icon';

export function Welcome({ onSignIn }: { onSignIn: () => void }) {
  return (
    <main className="console-welcome">
      <div className="welcome-card">
        <span className="logo-mark big" aria-hidden="true">
          <Icon name="bolt" size={30} />
        </span>
        <p className="eyebrow">{t('console.name')}</p>
        <h1>{t('console.welcome.title')}</h1>
        <p className="muted">{t('console.welcome.text')}</p>
        <button type="button" className="btn primary large block" onClick={onSignIn}>
          {t('auth.signIn')}
        </button>
      </div>
    </main>
  );
}
