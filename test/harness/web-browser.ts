import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';

/**
 * What the dashboard's browser tests share: the built app they need, where screenshots go,
 * Debian's Chromium through playwright-core, and axe-core injected into the page.
 */

export const WEB_DIST = join(__dirname, '..', '..', 'web', 'dist');
export const SHOTS = process.env.STOWAGE_SCREENSHOT_DIR ?? join(__dirname, '..', '..', 'test-results', 'web-screenshots');
const AXE = require.resolve('axe-core/axe.min.js');

/** `describe` when the app is built, else `describe.skip` with a warning naming the suite. */
export function describeIfWebBuilt(suite: string): jest.Describe {
  if (existsSync(join(WEB_DIST, 'index.html'))) return describe;
  // Said loudly: CI builds before testing, so a skip here means a local run without `npm run build:web`.
  console.warn(`${suite} browser tests skipped: ${WEB_DIST}/index.html is missing (npm run build:web)`);
  return describe.skip;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** axe-core in the page (its context needs bypassCSP): no serious or critical violation of WCAG 2 A/AA. */
export async function expectNoSeriousAxeViolations(page: Page): Promise<void> {
  await page.addScriptTag({ content: readFileSync(AXE, 'utf8') });
  // A string, evaluated in the page (the test's own TypeScript has no DOM types).
  const violations = (await page.evaluate(`(async () => {
    const result = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
  })()`)) as string[];
  expect(violations).toEqual([]);
}
