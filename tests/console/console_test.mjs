// console_test.mjs - the review console in headless Chromium: log in with a
// token, open a ticket from the queue, approve its draft, see the approval
// in the audit trail; the shadow policy page lists a ticket it decided
// differently; an onboarding reviewer's approval waits for a peer, who then
// approves. Usage: node console_test.mjs BASE_URL TOKEN TICKET SHOT
//                  ONBOARDING_TOKEN ONBOARDING_TICKET SHADOW_TICKET SHADOW_SHOT
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, token, ticket, shot, nia, obTicket, shTicket, shadowShot] = process.argv.slice(2);
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
  // expected 401s (session probe, wrong token) are resource errors, not page errors
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.setDefaultTimeout(15000);

  await page.goto(base + '/');
  await page.waitForSelector('#login:not(.hidden)');
  console.log('ok login form shown');
  await page.fill('#token', 'sgt_wrong');
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#flash.error:not(.hidden)');
  console.log('ok a wrong token is refused: ' + (await page.textContent('#flash')).split(':')[0]);
  await page.fill('#token', token);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#queue:not(.hidden)');
  const cookie = await page.evaluate(() => document.cookie);
  if (cookie.includes('sg_session')) fail('the session cookie is readable from JavaScript');
  else console.log('ok logged in; the session cookie is HttpOnly');

  const row = page.locator(`#queue-rows tr[data-ticket="${ticket}"]`);
  await row.waitFor();
  console.log('ok the queue lists ' + ticket);
  await page.selectOption('#f-gate', 'two_step');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction((t) => !document.querySelector(`#queue-rows tr[data-ticket="${t}"]`), ticket);
  console.log('ok the gate filter hides it');
  await page.selectOption('#f-gate', '');
  await page.click('#filters button[type=submit]');
  await row.waitFor();

  await row.click();
  await page.waitForSelector('#ticket:not(.hidden)');
  const msg = await page.textContent('#t-message');
  if (/jane\.doe@example\.com/.test(msg)) fail('the ticket view shows a raw email address');
  else if (!msg.includes('[')) fail('the message does not look masked: ' + msg);
  else console.log('ok the ticket view shows the masked message');
  const reasons = await page.locator('#t-reasons tr').count();
  const where = await page.textContent('#t-reasons');
  if (!reasons || !/policy\.yaml:\d+/.test(where)) fail('no decision reasons with policy lines');
  else console.log('ok decision reasons cite policy lines');
  if ((await page.textContent('#t-status')) !== 'pending') fail('status is not pending');

  await page.fill('#t-note', 'approved in the browser test');
  await page.click('#approve');
  await page.waitForFunction(() => document.querySelector('#t-status').textContent === 'approved');
  console.log('ok approve recorded; the ticket is approved');
  const audit = page.locator('#t-audit tr', { hasText: 'approve' });
  await audit.waitFor();
  const auditText = await audit.first().textContent();
  if (!auditText.includes('alice')) fail('the audit record does not name the approver');
  else console.log('ok the audit trail shows the approval by alice');
  await page.screenshot({ path: shot, fullPage: true });
  console.log('ok screenshot saved');

  // the shadow policy page
  await page.click('#nav-shadow');
  await page.waitForSelector('#shadow:not(.hidden)');
  const gateRow = page.locator(`#s-diffs tr[data-ticket="${shTicket}"][data-field="gate"]`);
  await gateRow.waitFor();
  const gateText = await gateRow.textContent();
  if (!gateText.includes('two_step') || !gateText.includes('agent_review')) fail('shadow gate row: ' + gateText);
  else console.log('ok the shadow page shows ' + shTicket + ': two_step live, agent_review under the shadow');
  const rulesRow = await page.locator(`#s-diffs tr[data-ticket="${shTicket}"][data-field="rules"]`).textContent();
  if (!rulesRow.includes('test-two-step')) fail('shadow rules row: ' + rulesRow);
  else console.log('ok the shadow page names the rule that fired under the live policy only');
  const summary = await page.textContent('#s-summary');
  if (!/Evaluated\s*[1-9]/.test(summary) || !/Decided differently\s*1/.test(summary)) fail('shadow summary: ' + summary);
  else console.log('ok the shadow summary counts evaluated and differing tickets');
  if (!(await page.textContent('#s-state')).includes('no effect')) fail('the shadow state does not say it has no effect');
  await page.screenshot({ path: shadowShot, fullPage: true });

  // an onboarding reviewer's approval waits for a peer
  await page.click('#logout');
  await page.waitForSelector('#login:not(.hidden)');
  await page.fill('#token', nia);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#queue:not(.hidden)');
  await page.waitForSelector('#who-onboarding:not(.hidden)');
  console.log('ok the onboarding reviewer sees: ' + (await page.textContent('#who-onboarding')));
  await page.locator(`#queue-rows tr[data-ticket="${obTicket}"]`).click();
  await page.waitForSelector('#ticket:not(.hidden)');
  await page.click('#approve');
  await page.waitForFunction(() => document.querySelector('#t-status').textContent === 'awaiting_second');
  const peerLine = await page.textContent('#t-peer');
  if (!peerLine.includes('nia') || !peerLine.includes('onboarding')) fail('peer review line: ' + peerLine);
  else console.log('ok the trainee\'s approval waits for a peer: ' + peerLine.split(';')[0]);
  await page.click('#logout');
  await page.waitForSelector('#login:not(.hidden)');
  await page.fill('#token', token);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#queue:not(.hidden)');
  await page.locator(`#queue-rows tr[data-ticket="${obTicket}"]`).click();
  await page.waitForSelector('#ticket:not(.hidden)');
  if ((await page.textContent('#approve')) !== 'Peer approval') fail('the button does not say Peer approval');
  await page.click('#approve');
  await page.waitForFunction(() => document.querySelector('#t-status').textContent === 'approved');
  const peerAudit = await page.locator('#t-audit tr', { hasText: 'approve' }).allTextContents();
  if (peerAudit.length !== 2 || !peerAudit[0].includes('nia') || !peerAudit[1].includes('alice'))
    fail('audit after the peer approval: ' + peerAudit.join(' | '));
  else console.log('ok a peer approves; the audit trail shows nia then alice');
  if (errors.length) fail('page errors: ' + errors.join(' | '));
  else console.log('ok no page errors');
} catch (e) {
  fail(e.message);
} finally {
  if (ctx) await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
