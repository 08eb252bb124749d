import type { ReactNode } from 'react';
import { Link, Route, Switch, useLocation } from 'wouter';
import { useApp } from '../shared/context';
import { t } from '../shared/i18n';
import { Button } from '../shared/ui/Button';
import { Icon, type IconName } from '../shared/ui/Icon';
import { EmptyState } from '../shared/ui/States';
import { Logo } from './Logo';
import { Find } from './pages/Find';
import { History } from './pages/History';
import { Pay } from './pages/Pay';
import { Session } from './pages/Session';
import { Station } from './pages/Station';
import { Tokens } from './pages/Tokens';

const NAV: { href: string; label: () => string; icon: IconName; match: (path: string) => boolean }[] = [
  { href: '/', label: () => t('driver.nav.find'), icon: 'map', match: (p) => p === '/' || p.startsWith('/stations') },
  { href: '/history', label: () => t('driver.nav.history'), icon: 'history', match: (p) => p.startsWith('/history') || p.startsWith('/sessions') },
  { href: '/tokens', label: () => t('driver.nav.tokens'), icon: 'card', match: (p) => p.startsWith('/tokens') },
];

function Nav({ className }: { className: string }) {
  const [path] = useLocation();
  return (
    <nav className={className} aria-label={t('driver.nav.label')}>
      {NAV.map((item) => (
        <Link key={item.href} href={item.href} aria-current={item.match(path) ? 'page' : undefined}>
          <Icon name={item.icon} size={22} />
          <span>{item.label()}</span>
        </Link>
      ))}
    </nav>
  );
}

function Shell({ children }: { children: ReactNode }) {
  const { auth } = useApp();
  return (
    <div className="driver">
      <a className="skip-link" href="#main">
        {t('common.skipToContent')}
      </a>
      <header className="topbar">
        <Link href="/" className="brand" aria-label={t('driver.name')}>
          <Logo />
        </Link>
        <Nav className="nav-top" />
        <div className="user">
          <span className="user-name" title={t('common.signedInAs', { name: auth.user?.name ?? '' })}>
            <Icon name="user" size={18} />
            <span className="user-label">{auth.user?.name}</span>
          </span>
          <Button variant="ghost" size="small" icon="logout" onClick={() => auth.signOut()} aria-label={t('common.signOut')}>
            <span className="hide-narrow">{t('common.signOut')}</span>
          </Button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <Nav className="nav-bottom" />
    </div>
  );
}

export function App() {
  return (
    <Shell>
      <Switch>
        <Route path="/" component={Find} />
        <Route path="/stations/:id" component={Station} />
        <Route path="/sessions/:stationId/:transactionId" component={Session} />
        <Route path="/history" component={History} />
        <Route path="/tokens" component={Tokens} />
        <Route path="/pay/:stationId" component={Pay} />
        <Route>
          <div className="page">
            <EmptyState icon="search" title={t('error.notFound.title')} action={<Link href="/">{t('history.findCharger')}</Link>} />
          </div>
        </Route>
      </Switch>
    </Shell>
  );
}
