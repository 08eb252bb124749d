/**
 * Screenshots of every main screen at phone (390 px) and desktop (1440 px) width, for the README:
 * `scripts/screenshots.sh` runs this against a fresh local stack with a small demo fleet (Python
 * `ocpp` piles, two of them charging). Writes docs/screenshots/<screen>-<width>.png.
 */
import type { Browser, Page } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { api, expect, signIn, startPile, stopPile, test, tokenFor } from './helpers';
import { tileSvg } from './tiles';

const OUT = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const ORG = 'amsterdam-charging';
const piles: ChildProcess[] = [];

const STATIONS = [
  { id: 'AMS-CENTRAAL-01', site: 'Centraal Station P+R', at: [52.3791, 4.9003], plugs: [['cType2', 22000], ['cType2', 22000]] },
  { id: 'AMS-DAMRAK-02', site: 'Damrak garage', at: [52.3745, 4.8962], plugs: [['cCCS2', 150000], ['cG105', 50000]], faulted: [2] },
  { id: 'AMS-JORDAAN-03', site: 'Westerstraat', at: [52.3759, 4.8811], plugs: [['cType2', 11000], ['cType2', 11000]] },
  { id: 'AMS-ZUID-04', site: 'Museumplein', at: [52.3584, 4.8811], plugs: [['cCCS2', 300000], ['cCCS2', 300000]] },
  { id: 'AMS-OOST-05', site: 'Oosterpark', at: [52.3601, 4.9189], plugs: [['cType2', 22000]] },
  { id: 'AMS-NOORD-06', site: 'NDSM wharf', at: [52.4009, 4.8925], plugs: [['cType2', 22000], ['cCCS2', 50000]], offline: true },
] as const;

async function seed() {
  const admin = await tokenFor('demo-admin');
  await api(admin, 'POST', '/v1/admin/organisations', { id: ORG, name: 'Amsterdam Charging Co.' });
  await api(admin, 'POST', '/v1/admin/organisations', { id: 'utrecht-power', name: 'Utrecht Power' });
  await api(admin, 'PUT', `/v1/admin/organisations/${ORG}/operators/demo-operator`);
  const operator = await tokenFor('demo-operator');
  for (const s of STATIONS) {
    const { password } = await api<{ password: string }>(operator, 'POST', '/v1/operator/stations', {
      stationId: s.id,
      protocols: ['ocpp1.6'],
      site: s.site,
      location: { latitude: s.at[0], longitude: s.at[1] },
      connectors: s.plugs.map(([type, w], i) => ({ connectorId: i + 1, type, maxPowerW: w })),
    });
    if (!('offline' in s)) piles.push(await startPile(s.id, password, s.plugs.length, 'faulted' in s ? [...s.faulted] : []));
  }
  // Cards are issued in the stations' organisation; the demo driver makes theirs with their claim
  // codes (the fleet cards stay unclaimed: only the demo users can sign in locally).
  const driver = await tokenFor('demo-driver');
  for (const [token, claimed] of [['04E91C5A', true], ['APP-7F3K2Q', true], ['04A7B2C1', false], ['04C3D9E0', false]] as const) {
    await api(operator, 'POST', '/v1/operator/tokens', { idToken: token });
    if (!claimed) continue;
    const { claimCode } = await api<{ claimCode: string }>(operator, 'POST', `/v1/operator/tokens/${token}/claim-code`);
    await api(driver, 'POST', '/v1/me/tokens', { claimCode });
  }
  await api(operator, 'PATCH', '/v1/operator/tokens/04C3D9E0', { status: 'Blocked' });
  const charge = async (stationId: string, idToken: string) => {
    await api(driver, 'POST', '/v1/charging/start', { stationId, idToken });
    await expect
      .poll(async () => (await api<{ sessions: { stationId: string }[] }>(driver, 'GET', `/v1/me/sessions?state=active&stationId=${stationId}`)).sessions.length, { timeout: 30_000 })
      .toBe(1);
  };
  // One finished session for the history, two charging now.
  await charge('AMS-OOST-05', '04E91C5A');
  await new Promise((r) => setTimeout(r, 6000));
  const [done] = (await api<{ sessions: { transactionId: string }[] }>(driver, 'GET', '/v1/me/sessions?state=active&stationId=AMS-OOST-05')).sessions;
  await api(driver, 'POST', '/v1/charging/stop', { stationId: 'AMS-OOST-05', transactionId: done.transactionId });
  await charge('AMS-ZUID-04', 'APP-7F3K2Q');
  await charge('AMS-CENTRAAL-01', '04E91C5A');
  // Operators' commands, for the station page.
  await api(operator, 'POST', '/v1/operator/stations/AMS-CENTRAAL-01/commands', { action: 'GetConfiguration', payload: {} });
  await api(operator, 'POST', '/v1/operator/stations/AMS-CENTRAAL-01/commands', { action: 'Reset', payload: { type: 'Soft' } });
  await new Promise((r) => setTimeout(r, 8000));
}

async function session(browser: Browser, width: number, path: string, user: string): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width, height: width < 600 ? 844 : 900 },
    deviceScaleFactor: 1,
    isMobile: width < 600,
    hasTouch: width < 600,
    locale: 'en-GB',
    timezoneId: 'Europe/Amsterdam',
  });
  await context.route(/^https:\/\/tiles\.test\//, (route) => {
    const [z, x, y] = new URL(route.request().url()).pathname.replace(/\.png$/, '').split('/').slice(1).map(Number);
    return route.fulfill({ contentType: 'image/svg+xml', body: tileSvg(z, x, y) });
  });
  const page = await context.newPage();
  await signIn(page, path, user);
  return page;
}

async function shoot(page: Page, name: string, width: number) {
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.waitForTimeout(600);
  await page.screenshot({ path: `${OUT}${name}-${width}.png` });
}

test.describe.configure({ mode: 'serial' });
test.afterAll(() => piles.forEach(stopPile));

test('screenshots of every main screen', async ({ browser }) => {
  test.setTimeout(600_000);
  await seed();
  for (const width of [390, 1440]) {
    const d = await session(browser, width, '/', 'demo-driver');
    await expect(d.locator('.leaflet-marker-icon').first()).toBeVisible();
    await shoot(d, 'driver-map', width);
    if (width < 600) {
      await d.getByRole('button', { name: 'List' }).click();
      await shoot(d, 'driver-list', width);
    }
    await d.goto('/stations/AMS-DAMRAK-02');
    await expect(d.getByRole('heading', { name: 'Damrak garage' })).toBeVisible();
    await shoot(d, 'driver-station', width);
    await d.goto('/history');
    await expect(d.locator('a[data-session]').first()).toBeVisible();
    await shoot(d, 'driver-history', width);
    await d.locator('a[data-session^="AMS-CENTRAAL-01/"]').click();
    await expect(d.getByTestId('energy')).toBeVisible();
    await d.waitForTimeout(3000);
    await shoot(d, 'driver-session', width);
    await d.goto('/tokens');
    await expect(d.getByText('04E91C5A')).toBeVisible();
    await shoot(d, 'driver-cards', width);
    await d.context().close();

    const c = await session(browser, width, '/console/', 'demo-operator');
    await expect(c.getByRole('img', { name: /Energy charged per day/ })).toBeVisible();
    await expect(c.locator('.leaflet-marker-icon').first()).toBeVisible();
    await shoot(c, 'console-dashboard', width);
    await c.goto('/console/stations');
    await expect(c.getByRole('link', { name: 'AMS-CENTRAAL-01' })).toBeVisible();
    await shoot(c, 'console-stations', width);
    await c.goto('/console/stations/AMS-CENTRAAL-01');
    await expect(c.getByText('Helios', { exact: false }).first()).toBeVisible();
    await shoot(c, 'console-station', width);
    await c.getByRole('tab', { name: 'Commands' }).click();
    await expect(c.locator('tr[data-command]').first()).toBeVisible();
    await shoot(c, 'console-commands', width);
    await c.goto('/console/sessions');
    await expect(c.locator('tr[data-session]').first()).toBeVisible();
    await shoot(c, 'console-sessions', width);
    await c.goto('/console/tokens');
    await expect(c.getByRole('cell', { name: '04E91C5A', exact: true })).toBeVisible();
    await shoot(c, 'console-tokens', width);
    await c.context().close();

    const a = await session(browser, width, '/console/admin/organisations', 'demo-admin');
    await expect(a.getByRole('link', { name: 'Amsterdam Charging Co.' })).toBeVisible();
    await shoot(a, 'console-organisations', width);
    await a.context().close();
  }
});
