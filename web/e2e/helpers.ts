import AxeBuilder from '@axe-core/playwright';
import { expect, test as base, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tileSvg } from './tiles';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests through scripts/test.sh (or scripts/with-stack.sh)`);
  return value;
}

export const env = {
  api: () => required('CSMS_API_URL'),
  issuer: () => required('CSMS_ISSUER_URL'),
  ocpp: () => required('CSMS_OCPP_URL'),
};

/**
 * Every test's browser gets the generated map tiles instead of a tile provider's, and fails on
 * anything the Content Security Policy blocked.
 */
export const test = base.extend({
  page: async ({ page }, use) => {
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
    });
    await use(page);
    expect(blocked, 'Content Security Policy violations').toEqual([]);
  },
  context: async ({ context }, use) => {
    await context.route(/^https:\/\/tiles\.test\//, (route) => {
      const [z, x, y] = new URL(route.request().url()).pathname.replace(/\.png$/, '').split('/').slice(1).map(Number);
      return route.fulfill({ contentType: 'image/svg+xml', body: tileSvg(z, x, y) });
    });
    await use(context);
  },
});
export { expect };

/** A demo user's access token (the development issuer's password grant). */
export async function tokenFor(user: 'demo-driver' | 'demo-operator' | 'demo-admin'): Promise<string> {
  const response = await fetch(`${env.issuer()}/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', username: user, password: 'local-demo-password' }),
  });
  if (!response.ok) throw new Error(`token for ${user}: HTTP ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Calls the app API as `token`; throws on an answer other than 2xx. */
export async function api<T = unknown>(token: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${env.api()}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Signs in on the development issuer's page by choosing a demo user. */
export async function signIn(page: Page, path: string, user: string) {
  await page.goto(path);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: new RegExp(`^${user}`) }).click();
  await page.waitForURL((url) => !url.pathname.includes('auth/callback') && !url.href.startsWith(env.issuer()));
}

/** No serious or critical WCAG 2.1 A/AA violation on what the page shows now. */
export async function expectAccessible(page: Page, screen: string) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`);
  expect(report, `axe on ${screen}`).toEqual([]);
}

const PYTHON = fileURLToPath(new URL('../../.local/venv/bin/python', import.meta.url));
const PILE = fileURLToPath(new URL('./pile.py', import.meta.url));

/** Starts the Python `ocpp` pile for a station; resolves once it has booted. */
export function startPile(stationId: string, password: string, connectors = 1, faulted: number[] = []): Promise<ChildProcess> {
  const args = [PILE, '--url', env.ocpp(), '--id', stationId, '--password', password, '--connectors', String(connectors)];
  for (const c of faulted) args.push('--faulted', String(c));
  const child = spawn(process.env.PILE_PYTHON ?? PYTHON, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pile ${stationId} did not boot in 30 s:\n${output}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pile ${stationId} exited with ${code}:\n${output}`));
    });
  });
}

export function stopPile(pile: ChildProcess | undefined) {
  if (pile && pile.exitCode === null) {
    pile.stdin?.end();
    pile.kill('SIGTERM');
  }
}
