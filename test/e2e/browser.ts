// The web client's end-to-end suites share this set-up: the whole platform (every service
// and the gateway, as production runs them) and Debian's Chromium driven by playwright-core,
// one page open for the suite, every console error and page error collected so a suite can
// prove the gateway's 'self'-only CSP refused nothing. Screenshots go to .data/reports.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type Platform, ROOT, startPlatform } from './platform';

export const REPORTS = path.join(ROOT, '.data', 'reports');

export interface WebSuite {
  readonly platform: Platform;
  readonly browser: Browser;
  /** The suite's page (staff's session lives in its sessionStorage). */
  readonly page: Page;
  /** Console errors and page errors of every page the suite opened. */
  readonly problems: string[];
  /** What the browser refused under the Content Security Policy (should be nothing). */
  cspViolations(): string[];
  /** Another page (a patient's, a visitor's), its page errors collected with the suite's. */
  openPage(viewport: { width: number; height: number }): Promise<Page>;
  /** Fill in the login form on the suite's page and submit it. */
  logIn(tenant: string, email: string, password: string): Promise<void>;
  /** A full-page screenshot of `page` as .data/reports/<name>.png. */
  screenshot(page: Page, name: string, fullPage?: boolean): Promise<void>;
}

/** Start the platform and the browser before the describe block's tests; stop both after. */
export function webSuite(viewport: { width: number; height: number }, startTimeoutMs = 300_000): WebSuite {
  let platform: Platform | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  const problems: string[] = [];
  const started = <T>(what: string, x: T | undefined): T => {
    if (!x) throw new Error(`the web suite's ${what} did not start`);
    return x;
  };

  beforeAll(async () => {
    mkdirSync(REPORTS, { recursive: true });
    platform = await startPlatform({ services: ['auth', 'records', 'consent', 'messaging', 'audit'], readyTimeoutMs: 180_000 });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
  }, startTimeoutMs);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  }, 60_000);

  return {
    get platform() {
      return started('platform', platform);
    },
    get browser() {
      return started('browser', browser);
    },
    get page() {
      return started('page', page);
    },
    problems,
    cspViolations: () => problems.filter((p) => /Content Security Policy|Refused to/i.test(p)),
    async openPage(size) {
      const other = await started('browser', browser).newPage({ viewport: size });
      other.on('pageerror', (e) => problems.push(e.message));
      return other;
    },
    async logIn(tenant, email, password) {
      const p = started('page', page);
      await p.getByLabel('Practice').fill(tenant);
      await p.getByLabel('Email').fill(email);
      await p.getByLabel('Password').fill(password);
      await p.getByRole('button', { name: 'Log in' }).click();
    },
    async screenshot(p, name, fullPage = true) {
      await p.screenshot({ path: path.join(REPORTS, `${name}.png`), fullPage });
    },
  };
}
