// outbox_test.mjs - the console's Outbox page in headless Chromium: a lead
// logs in, opens Outbox, sees the counts and the dead letter of a ticket.
// Usage: node outbox_test.mjs BASE_URL LEAD_TOKEN TICKET
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, token, ticket] = process.argv.slice(2);
const fail = (msg) => { console.log('FAIL: ' + msg); process.exitCode = 1; };
const profile = mkdtempSync(join(tmpdir(), 'sopgate-chromium-'));
let ctx;
try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.setDefaultTimeout(15000);
  await page.goto(base + '/');
  await page.waitForSelector('#login:not(.hidden)');
  await page.fill('#token', token);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#queue:not(.hidden)');
  await page.click('#nav-outbox');
  await page.waitForSelector('#outbox:not(.hidden)');
  const dead = Number(await page.textContent('#o-dead'));
  if (!(dead >= 1)) fail('the outbox page shows ' + dead + ' dead letters');
  else console.log('ok the outbox page counts the dead letters');
  const rows = await page.locator('#outbox-rows tr').allTextContents();
  const mine = rows.find((r) => r.includes(ticket) && r.includes('record'));
  if (!mine) fail('no dead letter row for ' + ticket + ': ' + JSON.stringify(rows));
  else if (!/no response/.test(mine)) fail('the row does not show the last error: ' + mine);
  else console.log('ok the dead letter of ' + ticket + ' is listed with its last error');
  if (errors.length) fail('page errors: ' + errors.join('; '));
} catch (e) {
  fail(e.message);
} finally {
  if (ctx) await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
