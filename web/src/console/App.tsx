import { useState, type ReactNode } from 'react';
import { Link, Redirect, Route, Switch, useLocation } from 'wouter';
import { useApp } from '../shared/context';
import { t } from '../shared/i18n';
import { Button } from '../shared/ui/Button';
import { Icon, type IconName } from '../shared/ui/Icon';
import { EmptyState } from '../shared/ui/States';
import { Dashboard } from './pages/Dashboard';
import { IdTokens } from './pages/IdTokens';
import { Organisation } from './pages/Organisation';
import { Organisations } from './pages/Organisations';
import { SessionDetail } from './pages/SessionDetail';
import { Sessions } from './pages/Sessions';
import { StationDetail } from './pages/StationDetail';
import { Stations } from './pages/Stations';

interface NavItem {
  href: string;
  label: () => string;
  icon: IconName;
}

const OPERATOR_NAV: NavItem[] = [
  { href: '/', label: () => t('console.nav.dashboard'), icon: 'dashboard' },
  { href: '/stations', label: () => t('console.nav.stations'), icon: 'station' },
  { href: '/sessions', label: () => t('console.nav.sessions'), icon: 'sessions' },
  { href: '/tokens', label: () => t('console.nav.tokens'), icon: 'token' },
];
const ADMIN_NAV: NavItem[] = [{ href: '/admin/organisations', label: () => t('console.nav.organisations'), icon: 'building' }];

function current(path: string, href: string): boolean {
  return href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
}

function Shell({ children }: { children: ReactNode }) {
  const { auth } = useApp();
  const [path] = useLocation();
  const [open, setOpen] = useState(false);
  const roles = auth.user?.roles ?? [];
  const links = (items: NavItem[]) =>
    items.map((item) => (
      <li key={item.href}>
        <Link href={item.href} aria-current={current(path, item.href) ? 'page' : undefined} onClick={() => setOpen(false)}>
          <Icon name={item.icon} size={19} />
          {item.label()}
        </Link>
      </li>
    ));
  return (
    <div className="console">
      <a className="skip-link" href="#main">
        {t('common.skipToContent')}
      </a>
      <aside className="sidebar">
        <div className="sidebar-top">
          <Link href="/" className="console-brand">
            <span className="logo-mark" aria-hidden="true">
              <Icon name="bolt" size={18} />
            </span>
            <span>{t('console.name')}</span>
          </Link>
          <button type="button" className="menu-button" aria-expanded={open} aria-controls="console-nav" onClick={() => setOpen(!open)}>
            <Icon name={open ? 'close' : 'menu'} size={22} />
            <span className="sr-only">{t('console.menu')}</span>
          </button>
        </div>
        <nav id="console-nav" className={open ? 'open' : ''} aria-label={t('console.nav.label')}>
          {roles.includes('operators') && <ul>{links(OPERATOR_NAV)}</ul>}
          {roles.includes('admins') && (
            <>
              <p className="nav-heading">{t('console.nav.admin')}</p>
              <ul>{links(ADMIN_NAV)}</ul>
            </>
          )}
          <div className="sidebar-user">
            <span className="row" style={{ ['--gap' as string]: '8px' }}>
              <Icon name="user" size={18} />
              <span className="user-text">{auth.user?.name}</span>
            </span>
            <Button variant="ghost" size="small" icon="logout" onClick={() => auth.signOut()}>
              {t('common.signOut')}
            </Button>
          </div>
        </nav>
      </aside>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

function NotFound() {
  return (
    <div className="page">
      <EmptyState icon="search" title={t('error.notFound.title')} action={<Link href="/">{t('console.nav.dashboard')}</Link>} />
    </div>
  );
}

export function App() {
  const { auth } = useApp();
  const roles = auth.user?.roles ?? [];
  const operator = roles.includes('operators');
  const admin = roles.includes('admins');
  return (
    <Shell>
      <Switch>
        {operator && <Route path="/" component={Dashboard} />}
        {!operator && admin && (
          <Route path="/">
            <Redirect to="/admin/organisations" replace />
          </Route>
        )}
        {operator && <Route path="/stations" component={Stations} />}
        {operator && <Route path="/stations/:id" component={StationDetail} />}
        {operator && <Route path="/sessions" component={Sessions} />}
        {operator && <Route path="/sessions/:stationId/:transactionId" component={SessionDetail} />}
        {operator && <Route path="/tokens" component={IdTokens} />}
        {admin && <Route path="/admin/organisations" component={Organisations} />}
        {admin && <Route path="/admin/organisations/:id" component={Organisation} />}
        {!operator && !admin ? (
          <Route>
            <div className="page">
              <EmptyState icon="user" title={t('console.noRole.title')}>
                {t('console.noRole.text')}
              </EmptyState>
            </div>
          </Route>
        ) : (
          <Route component={NotFound} />
        )}
      </Switch>
    </Shell>
  );
}
