// scorecard_test.mjs - the console's QA pages in headless Chromium: draw
// this week's sample, score a sampled ticket with a hallucination (an
// incident opens), then the scorecard page: headline figures with their
// change, the SVG charts sopgate draws (loaded as images), the open
// incident, and the HTML report. Usage:
//   node scorecard_test.mjs BASE_URL LEAD_TOKEN TICKETS SHOT
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, token, tickets, shot] = process.argv.slice(2);
const fail = (msg) => { console.log('FAIL: ' + msg); process.exitCode = 1; };
const profile = mkdtempSync(join(tmpdir(), 'sopgate-chromium-'));
let ctx;
try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.setDefaultTimeout(20000);

  await page.goto(base + '/');
  await page.waitForSelector('#login:not(.hidden)');
  await page.fill('#token', token);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#queue:not(.hidden)');
  console.log('ok logged in as a lead');

  await page.click('#nav-qa');
  await page.waitForSelector('#qa:not(.hidden)');
  await page.click('#qa-draw');
  await page.waitForSelector('#qa-rows tr.row');
  const flashText = await page.textContent('#flash');
  if (!/sampled \d+ AI-handled and \d+ human-reviewed/.test(flashText)) fail('no sample summary: ' + flashText);
  const nrows = await page.locator('#qa-rows tr.row').count();
  console.log('ok this week sampled from the console (' + nrows + ' tickets)');

  const row = page.locator('#qa-rows tr.row').first();
  const ticket = (await row.locator('td').first().textContent()).trim();
  await row.click();
  await page.waitForSelector('#score-form:not(.hidden)');
  await page.selectOption('#score-form select[name=factual_accuracy]', '2');
  await page.check('#score-form input[value=hallucination]');
  await page.click('#score-form button[type=submit]');
  await page.waitForFunction(() => /incident .* opened/.test(document.querySelector('#flash').textContent));
  const scored = await page.locator(`#qa-rows tr.row:has(td:text-is("${ticket}"))`).textContent();
  if (!scored.includes('inaccurate')) fail('the sample is not shown as inaccurate: ' + scored);
  else console.log('ok scored ' + ticket + ' with a hallucination: inaccurate, incident opened');

  await page.click('#nav-scorecard');
  await page.waitForSelector('#scorecard:not(.hidden)');
  const fig = async (label) => (await page.locator(`#sc-rows tr[data-figure="${label}"] td`).allTextContents());
  const t = await fig('Tickets');
  if (Number(t[1]) < Number(tickets)) fail('tickets this week ' + t[1] + ' < ' + tickets);
  else console.log('ok the scorecard counts ' + t[1] + ' tickets this week (previous ' + t[2] + ', change ' + t[3] + ')');
  const qs = await fig('QA scored');
  if (qs[1] !== '1') fail('QA scored is ' + qs[1]);
  const qa = await fig('QA accuracy');
  if (qa[1] !== '0.0 %') fail('QA accuracy is ' + qa[1]);
  const inc = await fig('QA incidents opened');
  if (inc[1] !== '1') fail('incidents opened is ' + inc[1]);
  const csat = await fig('CSAT mean (1-5)');
  if (csat[1] !== '5') fail('CSAT mean is ' + csat[1]);
  if (!process.exitCode) console.log('ok QA scored 1, accuracy 0.0 %, 1 incident, CSAT 5 in the headline');
  if ((await page.locator('#sc-incidents tr').count()) !== 1) fail('the open incident is not listed');

  // every chart is an SVG drawn by sopgate, loaded as an image
  await page.waitForFunction(() => [...document.querySelectorAll('img.chart')].every((i) => i.complete));
  const charts = await page.$$eval('img.chart', (imgs) => imgs.map((i) => [i.id, i.naturalWidth]));
  const broken = charts.filter(([, w]) => !w);
  if (broken.length || charts.length !== 6) fail('charts not drawn: ' + JSON.stringify(charts));
  else console.log('ok ' + charts.length + ' SVG charts drawn: ' + charts.map(([id]) => id.replace('chart-', '')).join(', '));
  const svg = await page.evaluate(async () => {
    const r = await fetch('/v1/qa/charts/trend', { credentials: 'same-origin' });
    return [r.headers.get('content-type'), await r.text()];
  });
  if (!svg[0].startsWith('image/svg+xml') || !svg[1].includes('<polyline')) fail('trend chart is not SVG lines');
  const report = await page.evaluate(async () => (await fetch('/v1/qa/report', { credentials: 'same-origin' })).text());
  if (!report.includes('<svg') || report.includes('<script')) fail('the HTML report is not self-contained SVG');
  else console.log('ok the HTML report embeds its SVG charts and no script');

  await page.screenshot({ path: shot, fullPage: true });
  console.log('ok screenshot saved');
  if (errors.length) fail('page errors: ' + errors.join(' | '));
  else console.log('ok no page errors');
} catch (e) {
  fail(e.message);
} finally {
  if (ctx) await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
