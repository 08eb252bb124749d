/**
 * Both apps end to end against the real local stack and a Python `ocpp` pile: an operator
 * registers a station and its pile connects with the copied password, a Reset and every other
 * command preset are answered, a driver finds the station on the map and in the list (and reaches
 * it by keyboard), charges, watches the power chart grow, stops and finds the session in history;
 * the operator sees it, filters and exports sessions as CSV, edits, rotates and decommissions a
 * station; axe checks every main screen.
 */
import type { ChildProcess } from 'node:child_process';
import { api, expect, expectAccessible, signIn, startPile, stopPile, test, tokenFor } from './helpers';

const run = Date.now().toString(36).toUpperCase();
const ORG = `web-${run.toLowerCase()}`;
const STATION = `WEB-CP-${run}`;
const CARD = `WEB${run}`;
const SPARE_CARD = `WEB${run}S`;
let claimCode = '';
let pile: ChildProcess | undefined;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  const admin = await tokenFor('demo-admin');
  await api(admin, 'POST', '/v1/admin/organisations', { id: ORG, name: 'Web test charging' });
  await api(admin, 'PUT', `/v1/admin/organisations/${ORG}/operators/demo-operator`);
  const operator = await tokenFor('demo-operator');
  // The card is issued in the station's organisation; the driver makes it theirs with its claim code.
  await api(operator, 'POST', '/v1/operator/tokens', { idToken: CARD });
  const { claimCode } = await api<{ claimCode: string }>(operator, 'POST', `/v1/operator/tokens/${CARD}/claim-code`);
  await api(await tokenFor('demo-driver'), 'POST', '/v1/me/tokens', { claimCode });
});

test.afterAll(() => stopPile(pile));

test.describe('operator console', () => {
  test.use({ viewport: { width: 1440, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });

  test('registers a station, copies its password, and the pile connects with it', async ({ page }) => {
    await signIn(page, '/console/', 'demo-operator');
    await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Stations' }).click();
    await expect(page.getByRole('heading', { name: 'Stations', level: 1 })).toBeVisible();
    await page.getByRole('button', { name: 'Register a station' }).first().click();

    const dialog = page.getByRole('dialog', { name: 'Register a station' });
    await dialog.getByLabel('Station id').fill(STATION);
    await dialog.getByLabel('ocpp2.0.1').uncheck();
    await dialog.getByLabel('Site').fill('Web test depot');
    await dialog.getByLabel('Latitude').fill('52.3712');
    await dialog.getByLabel('Longitude').fill('4.8962');
    await dialog.getByLabel('Max power (kW)').fill('22');
    await expectAccessible(page, 'console: register a station');
    await dialog.getByRole('button', { name: 'Register' }).click();

    const shown = page.getByRole('dialog', { name: 'The pile’s password' });
    const password = (await shown.getByTestId('station-password').textContent())!.trim();
    await shown.getByRole('button', { name: 'Copy' }).click();
    await expect(shown.getByText('Copied to the clipboard').first()).toBeVisible();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(password);

    pile = await startPile(STATION, copied);
    await shown.getByRole('button', { name: 'I have stored it' }).click();
    await expect(page.getByRole('heading', { name: STATION })).toBeVisible();
    await expect(page.getByText('Online', { exact: true })).toBeVisible();
    await expect(page.getByText('Helios H-22 Duo', { exact: false })).toBeVisible();
    await expect(page.getByText('Available', { exact: true }).first()).toBeVisible();
    await expectAccessible(page, 'console: station');
  });

  test('sends a Reset and the other commands, and sees each answered', async ({ page }) => {
    await signIn(page, `/console/stations/${STATION}`, 'demo-operator');
    await page.getByRole('tab', { name: 'Commands' }).click();
    await expect(page.getByLabel('Command', { exact: true })).toHaveValue('reset');
    await expect(page.getByLabel('Request (JSON)')).toHaveValue(/"Soft"/);
    await page.getByRole('button', { name: 'Send' }).click();
    const row = page.locator('tr[data-command="Reset"]').first();
    await expect(row.getByText('Answered', { exact: true })).toBeVisible();
    await expect(row.getByText('Accepted', { exact: true })).toBeVisible();
    await expectAccessible(page, 'console: commands');

    // Every other preset, written in the station's OCPP 1.6; the pile's answers arrive as they come.
    const answers: Record<string, string | null> = {
      UnlockConnector: 'Unlocked',
      ChangeAvailability: 'Accepted',
      TriggerMessage: 'Accepted',
      GetConfiguration: null,
      ChangeConfiguration: 'Accepted',
    };
    for (const preset of ['unlock', 'availability', 'trigger', 'getConfig', 'setConfig']) {
      await page.getByLabel('Command', { exact: true }).selectOption(preset);
      await page.getByRole('button', { name: 'Send' }).click();
      await expect(page.getByRole('button', { name: 'Send' })).toBeEnabled();
    }
    for (const [action, status] of Object.entries(answers)) {
      const answered = page.locator(`tr[data-command="${action}"]`).first();
      await expect(answered.getByText('Answered', { exact: true })).toBeVisible();
      if (status) await expect(answered.getByText(status, { exact: true })).toBeVisible();
    }
    const config = page.locator('tr[data-command="GetConfiguration"]').first();
    await config.getByText('Details').click();
    await expect(config.locator('pre')).toContainText('MeterValueSampleInterval');
    await page.getByRole('tab', { name: 'Status history' }).click();
    await expect(page.getByRole('list', { name: 'Status history' })).toContainText('Available');
    await expectAccessible(page, 'console: status history');
  });
});

test.describe('driver app on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test('finds the station, charges, watches the power chart grow, stops and finds it in history', async ({ page }) => {
    await signIn(page, '/', 'demo-driver');
    await expect(page.getByRole('heading', { name: 'Chargers near you' })).toBeVisible();

    // On the map ...
    const marker = page.locator(`.leaflet-marker-icon[data-station="${STATION}"]`);
    await expect(marker).toBeVisible();
    await expect(marker).toHaveAttribute('aria-label', /Web test depot, 1 of 1 available/);
    await expectAccessible(page, 'driver: map');
    // ... and in the list, which needs no map.
    await page.getByRole('button', { name: 'List' }).click();
    // (the map's preview card of a hovered station stays in the page, hidden, while the list shows)
    const item = page.locator(`a[data-station="${STATION}"]`).filter({ visible: true });
    await expect(item).toContainText('1 of 1 available');
    await page.getByLabel('Plug').selectOption('CHAdeMO');
    await expect(item).toHaveCount(0);
    await page.getByLabel('Plug').selectOption('Type 2');
    await page.getByLabel('Power').selectOption('50');
    await expect(item).toHaveCount(0);
    await page.getByLabel('Power').selectOption('22');
    await page.getByLabel('Available now').check();
    await expect(item).toBeVisible();
    await expectAccessible(page, 'driver: list');
    // By keyboard alone, from the filter just used to the station.
    for (let i = 0; i < 20 && !(await item.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
    await expect(item).toBeFocused();
    await page.keyboard.press('Enter');

    await expect(page.getByRole('heading', { name: 'Web test depot' })).toBeVisible();
    await expect(page.getByText('Type 2 cable')).toBeVisible();
    await page.getByLabel('Charge with').selectOption(CARD);
    await expectAccessible(page, 'driver: station');
    await page.getByRole('button', { name: 'Start charging' }).click();

    await page.waitForURL(new RegExp(`/sessions/${STATION}/`));
    const chart = page.locator('[data-points]');
    await expect(chart).toHaveAttribute('data-points', /^[2-9]|\d\d/);
    const before = Number(await chart.getAttribute('data-points'));
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 20_000 }).toBeGreaterThan(before + 1);
    await expect(page.getByTestId('power')).toContainText('kW');
    const energy = await page.getByTestId('energy').textContent();
    await expect(page.getByTestId('energy')).not.toHaveText(energy!);
    await expectAccessible(page, 'driver: live session');

    await page.getByRole('button', { name: 'Stop charging' }).click();
    await page.getByRole('dialog', { name: 'Stop this session?' }).getByRole('button', { name: 'Stop charging' }).click();
    await expect(page.getByRole('heading', { name: 'Session complete' })).toBeVisible();
    const session = new URL(page.url()).pathname.replace('/sessions/', '');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
    await expect(page.locator(`a[data-session="${decodeURIComponent(session)}"]`)).toBeVisible();
    await expectAccessible(page, 'driver: history');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cards' }).click();
    await expect(page.getByText(CARD, { exact: true })).toBeVisible();
    await expectAccessible(page, 'driver: cards');
  });

  test('is installable: a web app manifest with icons, and a service worker for its shell', async ({ page, request }) => {
    await page.goto('/');
    const manifest = await (await request.get('/manifest.webmanifest')).json();
    expect(manifest).toEqual(expect.objectContaining({ display: 'standalone', start_url: '/' }));
    const sizes = manifest.icons.map((i: { sizes: string }) => i.sizes);
    expect(sizes).toEqual(expect.arrayContaining(['192x192', '512x512']));
    for (const icon of manifest.icons) expect((await request.get(icon.src)).ok()).toBe(true);
    const worker = await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL);
    expect(worker).toMatch(/\/sw\.js$/);
  });

  test('an unknown station is explained in words, not JSON', async ({ page }) => {
    await signIn(page, '/stations/NO-SUCH-STATION', 'demo-driver');
    await expect(page.getByRole('alert')).toContainText('Not found');
    await expect(page.getByRole('alert')).toContainText('No station NO-SUCH-STATION.');
    await expect(page.getByRole('alert')).not.toContainText('{');
  });
});

test.describe('operator console, after charging', () => {
  test.use({ viewport: { width: 1440, height: 900 } });

  test('sees the session, the dashboard and the id tokens', async ({ page }) => {
    await signIn(page, '/console/', 'demo-operator');
    await expect(page.getByRole('heading', { name: 'Sessions in progress' })).toBeVisible();
    await expect(page.getByRole('img', { name: /Energy charged per day/ })).toBeVisible();
    // The fleet map colours the station by its state: online, so not grey.
    const marker = page.locator(`.leaflet-marker-icon[data-station="${STATION}"] .marker`);
    await expect(marker).toHaveClass(/tone-(ok|busy|warn)/);
    await expectAccessible(page, 'console: dashboard');
    await page.getByRole('link', { name: 'Sessions' }).click();
    const row = page.locator(`tr[data-session^="${STATION}/"]`);
    await expect(row).toContainText('Completed');
    await expect(row).toContainText(CARD);
    await expectAccessible(page, 'console: sessions');
    // Filtered to the station's completed sessions, and exported as CSV.
    await page.getByLabel('Station id').fill(STATION);
    await page.getByLabel('State').selectOption('completed');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page.locator('tr[data-session]')).toHaveCount(1);
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const csv = await (await (await download).createReadStream()).toArray();
    const lines = Buffer.concat(csv).toString('utf8').trim().split('\r\n');
    expect(lines[0]).toBe('stationId,transactionId,state,evse,connector,idToken,startedAt,stoppedAt,energyWh,stopReason');
    expect(lines.slice(1)).toEqual([expect.stringMatching(new RegExp(`^${STATION},.*,${CARD},`))]);
    await row.getByRole('link').click();
    await expect(page.getByRole('img', { name: /Power over time/ })).toBeVisible();
    await expectAccessible(page, 'console: session');
    await page.getByRole('link', { name: 'Id tokens' }).click();
    await expect(page.getByRole('cell', { name: CARD, exact: true })).toBeVisible();
    await expectAccessible(page, 'console: id tokens');
    await page.getByRole('link', { name: 'Stations' }).click();
    await expect(page.getByRole('link', { name: STATION })).toBeVisible();
    await expectAccessible(page, 'console: stations');
  });

  test('edits a station, gives it a new password and decommissions it after confirmation', async ({ page }) => {
    const spare = `${STATION}-B`;
    const operator = await tokenFor('demo-operator');
    const { password: old } = await api<{ password: string }>(operator, 'POST', '/v1/operator/stations', {
      stationId: spare,
      protocols: ['ocpp1.6'],
      connectors: [{ connectorId: 1, type: 'cType2', maxPowerW: 11000 }],
    });
    await signIn(page, `/console/stations/${spare}`, 'demo-operator');
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByLabel('Site').fill('Web test annex');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByText('Saved').first()).toBeVisible();
    await expect(page.locator('.page-head')).toContainText('Web test annex');

    await page.getByRole('button', { name: 'Make a new password' }).click();
    const shown = page.getByRole('dialog', { name: 'The pile’s password' });
    const fresh = (await shown.getByTestId('station-password').textContent())!.trim();
    expect(fresh).not.toBe(old);
    await shown.getByRole('button', { name: 'I have stored it' }).click();
    await expect(startPile(spare, old)).rejects.toThrow(/exited/);
    const spared = await startPile(spare, fresh);
    await expectAccessible(page, 'console: station settings');

    await page.getByRole('button', { name: 'Decommission station' }).click();
    const confirm = page.getByRole('dialog', { name: 'Decommission station' });
    const go = confirm.getByRole('button', { name: 'Decommission station' });
    await expect(go).toBeDisabled();
    await confirm.getByLabel(`Type the station id, ${spare}, to confirm.`).fill(spare);
    await go.click();
    await expect(page.getByRole('heading', { name: 'Stations', level: 1 })).toBeVisible();
    await expect(page.getByText(`Station ${spare} is decommissioned`)).toBeVisible();
    await expect(page.getByRole('link', { name: spare, exact: true })).toHaveCount(0);
    // Its connection is closed, and it cannot come back.
    await expect.poll(() => spared.exitCode, { timeout: 15_000 }).not.toBeNull();
    await expect(startPile(spare, fresh)).rejects.toThrow(/exited/);
  });

  test('makes a claim code for a new card, shown once', async ({ page }) => {
    await api(await tokenFor('demo-operator'), 'POST', '/v1/operator/tokens', { idToken: SPARE_CARD });
    await signIn(page, '/console/tokens', 'demo-operator');
    await page.getByRole('button', { name: `Claim code ${SPARE_CARD}` }).click();
    const shown = page.getByRole('dialog', { name: `Claim code for ${SPARE_CARD}` });
    claimCode = (await shown.getByTestId('claim-code').textContent())!.trim();
    expect(claimCode).not.toBe('');
    await expectAccessible(page, 'console: claim code');
    await shown.locator('.dialog-actions').getByRole('button', { name: 'Close' }).click();
    await expect(shown).toBeHidden();
  });

  test('the driver redeems the claim code in the app and the card is theirs', async ({ page }) => {
    await signIn(page, '/tokens', 'demo-driver');
    await expect(page.getByText(CARD, { exact: true })).toBeVisible();
    await page.getByLabel('Claim code').fill(claimCode);
    await page.getByRole('button', { name: 'Add the card' }).click();
    await expect(page.getByText(SPARE_CARD, { exact: true })).toBeVisible();
    await expectAccessible(page, 'driver: cards');
  });

  test('an admin manages organisations and their operators', async ({ page }) => {
    await signIn(page, '/console/', 'demo-admin');
    await expect(page.getByRole('heading', { name: 'Organisations' })).toBeVisible();
    await expectAccessible(page, 'console: organisations');
    await page.getByRole('link', { name: 'Web test charging' }).first().click();
    await expect(page.getByText('demo-operator')).toBeVisible();
    await expectAccessible(page, 'console: organisation');
  });
});

test.describe('sessions', () => {
  test('a refused token is refreshed once, without leaving the page', async ({ page }) => {
    await signIn(page, '/history', 'demo-driver');
    await expect(page.getByRole('heading', { name: 'History' })).toBeVisible();
    let refused = false;
    await page.route('**/v1/me/tokens', async (route) => {
      if (refused) return route.continue();
      refused = true;
      await route.fulfill({ status: 401, contentType: 'application/json', body: '{"message":"Unauthorized"}' });
    });
    const refreshed = page.waitForRequest((r) => r.url().endsWith('/oauth2/token') && (r.postData() ?? '').includes('grant_type=refresh_token'));
    await page.getByRole('link', { name: 'Cards' }).click();
    await refreshed;
    await expect(page.getByText(CARD, { exact: true })).toBeVisible();
    expect(new URL(page.url()).pathname).toBe('/tokens');
  });

  test('an expired session returns to sign-in and back to the same page', async ({ page }) => {
    await signIn(page, '/history', 'demo-driver');
    await expect(page.getByRole('heading', { name: 'History' })).toBeVisible();
    await page.route('**/v1/me/tokens', (route) => route.fulfill({ status: 401, contentType: 'application/json', body: '{"message":"Unauthorized"}' }), { times: 1 });
    await page.route('**/oauth2/token', (route) =>
      (route.request().postData() ?? '').includes('grant_type=refresh_token')
        ? route.fulfill({ status: 400, contentType: 'application/json', body: '{"error":"invalid_grant"}' })
        : route.continue(),
    );
    const authorize = page.waitForRequest((r) => r.url().includes('/oauth2/authorize'));
    await page.getByRole('link', { name: 'Cards' }).click();
    await authorize;
    // The issuer remembers the driver: straight back, to the page they were on.
    await page.waitForURL((url) => url.pathname === '/tokens');
    await expect(page.getByText(CARD, { exact: true })).toBeVisible();
  });

  test('sign-out forgets the user at the issuer too', async ({ page }) => {
    await signIn(page, '/', 'demo-driver');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('button', { name: /^demo-driver/ })).toBeVisible();
  });
});
