import { StrictMode, useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { Router } from 'wouter';
import { createApi } from './api/client';
import { AuthClient } from './auth/session';
import { loadConfig } from './config';
import { AppContext, type AppContextValue } from './context';
import { t } from './i18n';
import { Button } from './ui/Button';
import { ErrorState, Spinner } from './ui/States';
import { ToastProvider } from './ui/Toast';
import './ui/base.css';

type Phase =
  | { kind: 'starting' }
  | { kind: 'welcome' }
  | { kind: 'signing-in' }
  | { kind: 'ready' }
  | { kind: 'failed'; error: unknown };

/**
 * Starts an app at `base` ('/' or '/console/'): reads config.json, completes a sign-in that
 * comes back to `<base>auth/callback`, and signs in (again) when there are no tokens. `welcome`
 * is shown to someone who has not signed in in this tab yet.
 */
export function start(base: string, welcome: (signIn: () => void) => ReactNode, app: ReactNode) {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <ToastProvider>
        <Boot base={base} welcome={welcome}>
          {app}
        </Boot>
      </ToastProvider>
    </StrictMode>,
  );
}

let booted: Promise<AppContextValue> | null = null;

function boot(base: string): Promise<AppContextValue> {
  booted ??= loadConfig().then((config) => {
    const auth = new AuthClient(config.auth, base);
    return { config, auth, api: createApi(config.apiUrl, auth) };
  });
  return booted;
}

let callback: Promise<string> | null = null;

function Boot({ base, welcome, children }: { base: string; welcome: (signIn: () => void) => ReactNode; children: ReactNode }) {
  const [context, setContext] = useState<AppContextValue | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'starting' });

  useEffect(() => {
    let cancelled = false;
    boot(base)
      .then(async (ctx) => {
        if (cancelled) return;
        setContext(ctx);
        if (location.pathname === `${base}auth/callback`) {
          // Once, even under StrictMode's double effects: a code is good for one exchange.
          callback ??= ctx.auth.completeSignIn(new URL(location.href));
          const returnTo = await callback;
          history.replaceState(null, '', returnTo);
          if (!cancelled) setPhase({ kind: 'ready' });
        } else if (ctx.auth.user) {
          setPhase({ kind: 'ready' });
        } else if (ctx.auth.signedInBefore) {
          setPhase({ kind: 'signing-in' });
          await ctx.auth.signIn(location.pathname + location.search);
        } else {
          setPhase({ kind: 'welcome' });
        }
      })
      .catch((error) => {
        if (!cancelled) setPhase({ kind: 'failed', error });
      });
    return () => {
      cancelled = true;
    };
  }, [base]);

  const user = useSyncExternalStore(
    (listener) => context?.auth.subscribe(listener) ?? (() => {}),
    () => context?.auth.user ?? null,
  );

  const signIn = () => {
    setPhase({ kind: 'signing-in' });
    void context?.auth.signIn(location.pathname + location.search);
  };

  if (phase.kind === 'failed') {
    return (
      <main className="page">
        <ErrorState error={phase.error} />
        {context && (
          <div className="row" style={{ justifyContent: 'center' }}>
            <Button variant="primary" onClick={() => void context.auth.signIn(base)}>
              {t('auth.signInAgain')}
            </Button>
          </div>
        )}
      </main>
    );
  }
  if (phase.kind === 'welcome') return <>{welcome(signIn)}</>;
  if (phase.kind !== 'ready' || !context || !user) {
    return (
      <main className="page">
        <Spinner label={phase.kind === 'starting' ? t('common.loading') : t('auth.signingIn')} />
      </main>
    );
  }
  return (
    <AppContext.Provider value={context}>
      <Router base={base.replace(/\/$/, '')}>{children}</Router>
    </AppContext.Provider>
  );
}
