/**
 * Sign-in: OAuth2 authorization code with PKCE against Cognito's hosted sign-in (locally the
 * development issuer). Tokens live in memory only: a reload signs in again through the
 * authorization server, which remembers the user, so it returns at once. What must survive the
 * redirect (the PKCE verifier, the state, where to return) sits in sessionStorage for that trip.
 */
import type { AppConfig } from '../config';
import { challengeOf, claimsOf, randomVerifier } from './pkce';

export type Role = 'drivers' | 'operators' | 'admins';

export interface User {
  subject: string;
  name: string;
  roles: Role[];
}

interface Tokens {
  access: string;
  refresh?: string;
  /** ms since the epoch */
  expiresAt: number;
  user: User;
}

interface PendingSignIn {
  verifier: string;
  returnTo: string;
}

const PENDING = 'csms.signin.';
/** Set after a sign-in in this tab, so a reload goes straight back to the authorization server. */
const SIGNED_IN = 'csms.signedIn';
/** Refresh this long before the access token expires. */
const EARLY_MS = 60_000;

export class SessionExpired extends Error {
  constructor() {
    super('session expired');
  }
}

export class AuthClient {
  private tokens: Tokens | null = null;
  private refreshing: Promise<boolean> | null = null;
  private listeners = new Set<() => void>();

  /** `base` is the app's path ('/' or '/console/'). */
  constructor(
    private readonly config: AppConfig['auth'],
    private readonly base: string,
  ) {}

  get user(): User | null {
    return this.tokens?.user ?? null;
  }

  /** Whether this tab signed in before (a reload may sign in again without asking). */
  get signedInBefore(): boolean {
    return sessionStorage.getItem(this.key(SIGNED_IN)) === '1';
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private key(name: string): string {
    return `${name}${this.base}`;
  }

  private redirectUri(): string {
    return `${location.origin}${this.base}auth/callback`;
  }

  /** Off to the authorization server; back at `returnTo` (a path in this app) once signed in. */
  async signIn(returnTo: string, options: { chooseUser?: boolean } = {}): Promise<void> {
    const verifier = randomVerifier();
    const state = randomVerifier();
    const pending: PendingSignIn = { verifier, returnTo };
    sessionStorage.setItem(PENDING + state, JSON.stringify(pending));
    const url = new URL(this.config.authorizeUrl);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.config.clientId,
      redirect_uri: this.redirectUri(),
      scope: 'openid email profile',
      state,
      code_challenge: await challengeOf(verifier),
      code_challenge_method: 'S256',
      ...(options.chooseUser ? { prompt: 'login' } : {}),
    }).toString();
    location.assign(url.toString());
  }

  /** Completes a sign-in on the callback page; returns where to go. */
  async completeSignIn(callback: URL): Promise<string> {
    const error = callback.searchParams.get('error');
    const state = callback.searchParams.get('state') ?? '';
    const raw = sessionStorage.getItem(PENDING + state);
    sessionStorage.removeItem(PENDING + state);
    if (error) throw new Error(callback.searchParams.get('error_description') ?? error);
    const code = callback.searchParams.get('code');
    if (!raw || !code) throw new Error('this sign-in link was already used or did not come from this app');
    const pending = JSON.parse(raw) as PendingSignIn;
    await this.grant({
      grant_type: 'authorization_code',
      client_id: this.config.clientId,
      code,
      redirect_uri: this.redirectUri(),
      code_verifier: pending.verifier,
    });
    sessionStorage.setItem(this.key(SIGNED_IN), '1');
    return pending.returnTo.startsWith('/') ? pending.returnTo : this.base;
  }

  private async grant(form: Record<string, string>): Promise<void> {
    const response = await fetch(this.config.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok || typeof body.access_token !== 'string') {
      throw new Error(String(body.error_description ?? body.error ?? `HTTP ${response.status}`));
    }
    const access = body.access_token;
    const claims = claimsOf(access);
    const groups = Array.isArray(claims['cognito:groups']) ? (claims['cognito:groups'] as Role[]) : [];
    this.tokens = {
      access,
      // A refresh grant answers without a new refresh token: keep the one we have.
      refresh: typeof body.refresh_token === 'string' ? body.refresh_token : this.tokens?.refresh,
      expiresAt: Date.now() + Number(body.expires_in ?? 3600) * 1000,
      user: {
        subject: String(claims.sub ?? ''),
        name: String(claims.username ?? claims.email ?? claims.sub ?? ''),
        roles: groups,
      },
    };
    this.listeners.forEach((l) => l());
  }

  /** A fresh access token: refreshed through the authorization server when it is about to expire. */
  async accessToken(): Promise<string> {
    if (!this.tokens) throw new SessionExpired();
    if (Date.now() > this.tokens.expiresAt - EARLY_MS && !(await this.refresh())) throw new SessionExpired();
    return this.tokens!.access;
  }

  /** One refresh at a time; false when the session cannot be renewed (sign in again). */
  refresh(): Promise<boolean> {
    const refreshToken = this.tokens?.refresh;
    if (!refreshToken) return Promise.resolve(false);
    this.refreshing ??= this.grant({
      grant_type: 'refresh_token',
      client_id: this.config.clientId,
      refresh_token: refreshToken,
    })
      .then(() => true)
      .catch(() => false)
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  /** The session is over: sign in again and come back to the page the user was on. */
  expired(): void {
    this.tokens = null;
    this.listeners.forEach((l) => l());
    void this.signIn(location.pathname + location.search);
  }

  /** Forgets the tokens here and the user at the authorization server. */
  signOut(): void {
    this.tokens = null;
    sessionStorage.removeItem(this.key(SIGNED_IN));
    const url = new URL(this.config.logoutUrl);
    url.search = new URLSearchParams({
      client_id: this.config.clientId,
      logout_uri: `${location.origin}${this.base}`,
    }).toString();
    location.assign(url.toString());
  }
}
