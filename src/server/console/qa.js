/*
 * qa.js - the console's QA pages: the weekly scorecard (headline figures
 * with the change against the previous week, SVG charts drawn by sopgate
 * and shown as images, accuracy by category, approval rate by tier, pauses
 * with a lift button, open incidents) and the week's QA samples with the
 * scoring form. Uses api(), cell(), flash() and show() from app.js; data is
 * only ever inserted as text.
 */
'use strict';

const qa = { sample: null };

const HEADLINE = [
  ['Tickets', null, 'tickets', false],
  ['Deflection (auto-resolved)', 'deflection', 'rate', true],
  ['QA accuracy', 'qa_accuracy', 'rate', true],
  ['QA scored', 'qa_accuracy', 'scored', false],
  ['Approval rate', null, 'approval_rate', true],
  ['Draft edits', 'overrides', 'edits', false],
  ['Draft rejections', 'overrides', 'rejections', false],
  ['Mean edit distance (chars)', 'overrides', 'edit_distance_mean', false],
  ['First-contact resolution', 'fcr', 'rate', true],
  ['CSAT mean (1-5)', 'csat', 'mean', false],
  ['Escalations', null, 'escalations', false],
  ['Guardrail blocks', null, 'guardrail_blocks', false],
  ['SLA breaches', 'sla_breaches', 'total', false],
  ['QA incidents opened', 'incidents', 'opened', false],
];

function fmt(v, rate) {
  if (typeof v !== 'number') return 'n/a';
  if (rate) return (v * 100).toFixed(1) + ' %';
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function fmtChange(v, rate) {
  if (typeof v !== 'number') return 'n/a';
  const s = v > 0 ? '+' : v < 0 ? '' : '±';
  return rate ? s + (v * 100).toFixed(1) + ' pt' : s + (Number.isInteger(v) ? v : v.toFixed(2));
}

function changeCell(tr, v, rate) {
  cell(tr, fmtChange(v, rate), typeof v === 'number' && v !== 0 ? (v > 0 ? 'up' : 'down') : '');
}

function weekQuery(weekInput, weeksInput) {
  const q = new URLSearchParams();
  const w = $(weekInput).value.trim();
  if (w) q.set('week', w);
  if (weeksInput && $(weeksInput).value) q.set('weeks', $(weeksInput).value);
  return q.toString() ? '?' + q : '';
}

async function loadScorecard() {
  const query = weekQuery('sc-week', 'sc-weeks');
  const card = await api('GET', '/v1/qa/scorecard' + query);
  const w = card.week;
  const p = card.previous;
  $('sc-period').textContent = card.period + ' (against ' + card.previous_period + ')';
  const rows = $('sc-rows');
  rows.textContent = '';
  for (const [label, obj, field, rate] of HEADLINE) {
    const cur = obj ? w[obj] : w;
    const prev = obj ? p[obj] : p;
    const tr = document.createElement('tr');
    tr.dataset.figure = label;
    cell(tr, label);
    cell(tr, fmt(cur[field], rate));
    cell(tr, fmt(prev[field], rate));
    changeCell(tr, cur.change ? cur.change[field] : null, rate);
    rows.appendChild(tr);
  }
  for (const img of document.querySelectorAll('img.chart')) {
    img.src = '/v1/qa/charts/' + img.id.replace('chart-', '') + query;
  }
  $('sc-report').href = '/v1/qa/report' + query;

  const acc = $('sc-acc');
  acc.textContent = '';
  for (const c of w.qa_accuracy.by_category) {
    const tr = document.createElement('tr');
    cell(tr, c.category);
    cell(tr, c.scored);
    cell(tr, fmt(c.rate, true));
    changeCell(tr, c.change ? c.change.rate : null, true);
    acc.appendChild(tr);
  }
  const tiers = $('sc-tiers');
  tiers.textContent = '';
  for (const t of w.approval_by_tier) {
    const tr = document.createElement('tr');
    for (const f of ['tier', 'approved', 'edited', 'rejected']) cell(tr, t[f]);
    cell(tr, fmt(t.rate, true));
    changeCell(tr, t.change ? t.change.rate : null, true);
    tiers.appendChild(tr);
  }
  const paused = $('sc-paused');
  paused.textContent = '';
  for (const ps of card.paused) {
    const tr = document.createElement('tr');
    tr.dataset.category = ps.category;
    cell(tr, ps.category);
    cell(tr, ps.period);
    cell(tr, fmt(ps.accuracy, true));
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Lift pause';
    b.addEventListener('click', () => liftPause(ps.category));
    cell(tr, '').appendChild(b);
    paused.appendChild(tr);
  }
  const inc = $('sc-incidents');
  inc.textContent = '';
  for (const i of card.open_incidents) {
    const tr = document.createElement('tr');
    cell(tr, i.ticket_id);
    cell(tr, i.category);
    cell(tr, when(i.report_due));
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Close';
    b.addEventListener('click', () => closeIncident(i.id));
    cell(tr, '').appendChild(b);
    inc.appendChild(tr);
  }
  const esc = $('sc-esc');
  esc.textContent = '';
  for (const e of w.escalation_reasons) {
    const tr = document.createElement('tr');
    for (const f of ['reason', 'source', 'count']) cell(tr, e[f]);
    esc.appendChild(tr);
  }
  show('scorecard');
}

async function liftPause(category) {
  try {
    await api('POST', '/v1/qa/pauses/' + encodeURIComponent(category) + '/lift', {});
    flash('auto-send pause of ' + category + ' lifted');
    await loadScorecard();
  } catch (e) {
    flash(e.message, true);
  }
}

async function closeIncident(id) {
  try {
    await api('POST', '/v1/qa/incidents/' + encodeURIComponent(id) + '/close', {});
    flash('incident closed');
    await loadScorecard();
  } catch (e) {
    flash(e.message, true);
  }
}

async function loadSamples() {
  const data = await api('GET', '/v1/qa/samples' + weekQuery('qa-week'));
  $('qa-period').textContent = data.period;
  $('qa-count').textContent = '(' + data.count + ')';
  const rows = $('qa-rows');
  rows.textContent = '';
  for (const s of data.items) {
    const tr = document.createElement('tr');
    tr.className = 'row';
    tr.dataset.sample = s.id;
    cell(tr, s.ticket_id);
    cell(tr, s.category);
    cell(tr, s.kind === 'ai' ? 'AI-handled' : 'human-reviewed');
    cell(tr, s.scored ? (s.accurate ? 'accurate' : 'inaccurate') : 'unscored');
    cell(tr, s.reviewer || '');
    tr.addEventListener('click', () => openScore(s));
    rows.appendChild(tr);
  }
  $('score-form').classList.add('hidden');
  show('qa');
}

function openScore(s) {
  qa.sample = s;
  $('score-ticket').textContent = s.ticket_id;
  $('score-category').textContent = s.category;
  for (const sel of $('score-form').querySelectorAll('select')) sel.value = '5';
  for (const cb of $('score-form').querySelectorAll('input[name=defect]')) cb.checked = false;
  $('score-reached').checked = true;
  $('score-note').value = '';
  $('score-form').classList.remove('hidden');
}

async function saveScore(ev) {
  ev.preventDefault();
  if (!qa.sample) return;
  const body = { defects: [], reached_customer: $('score-reached').checked };
  for (const sel of $('score-form').querySelectorAll('select')) body[sel.name] = Number(sel.value);
  for (const cb of $('score-form').querySelectorAll('input[name=defect]:checked')) body.defects.push(cb.value);
  const note = $('score-note').value.trim();
  if (note) body.note = note;
  try {
    const r = await api('POST', '/v1/qa/samples/' + encodeURIComponent(qa.sample.id) + '/score', body);
    let msg = 'scored ' + qa.sample.ticket_id + ': ' + (r.accurate ? 'accurate' : 'not accurate');
    if (r.incident_id) msg += '; incident ' + r.incident_id + ' opened (report due in 24 h)';
    if (r.paused.length) msg += '; auto-send paused for ' + r.paused.join(', ');
    if (r.suggested.length) msg += '; suggested for expansion: ' + r.suggested.join(', ');
    await loadSamples();
    flash(msg);
  } catch (e) {
    flash(e.message, true);
  }
}

async function drawSample() {
  try {
    const w = $('qa-week').value.trim();
    const r = await api('POST', '/v1/qa/sample', w ? { week: w } : { week: new Date().toISOString().slice(0, 10) });
    flash(r.existed ? r.period + ' was sampled before'
      : r.period + ': sampled ' + r.ai_sampled + ' AI-handled and ' + r.human_sampled + ' human-reviewed tickets');
    if (!w) $('qa-week').value = r.period;
    await loadSamples();
  } catch (e) {
    flash(e.message, true);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  for (const sel of $('score-form').querySelectorAll('select')) {
    for (let v = 5; v >= 1; v--) {
      const o = document.createElement('option');
      o.value = String(v);
      o.textContent = String(v);
      sel.appendChild(o);
    }
  }
  $('nav-scorecard').addEventListener('click', () => loadScorecard().catch((e) => flash(e.message, true)));
  $('nav-qa').addEventListener('click', () => loadSamples().catch((e) => flash(e.message, true)));
  $('sc-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadScorecard().catch((e) => flash(e.message, true)); });
  $('qa-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadSamples().catch((e) => flash(e.message, true)); });
  $('qa-draw').addEventListener('click', drawSample);
  $('score-form').addEventListener('submit', saveScore);
});
