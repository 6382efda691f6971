/*
 * app.js - the review console: log in with a token (session cookie +
 * CSRF header), the review queue with filters, a ticket with its decision,
 * draft, guardrails, SOP steps and audit trail, approve / edit / reject
 * (with the peer review of onboarding reviewers), the shadow policy's
 * differences from the live one, and the outbox with its dead letters
 * (leads and admins).
 * Plain browser JavaScript, no build step; data is only ever inserted as
 * text (never as HTML).
 */
'use strict';

const state = { csrf: null, user: null, ticket: null };
const $ = (id) => document.getElementById(id);

function show(section) {
  for (const s of document.querySelectorAll('main > section')) s.classList.toggle('hidden', s.id !== section);
  $('nav').classList.toggle('hidden', section === 'login');
}

function flash(msg, isError) {
  const f = $('flash');
  f.textContent = msg;
  f.classList.toggle('error', !!isError);
  f.classList.toggle('hidden', !msg);
}

async function api(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: {} };
  if (method !== 'GET' && state.csrf) opts.headers['X-CSRF-Token'] = state.csrf;
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!r.ok) {
    const msg = data && data.error ? data.error.code + ': ' + data.error.message : 'HTTP ' + r.status;
    const err = new Error(msg);
    err.status = r.status;
    throw err;
  }
  return data;
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined ? '' : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function badges(el, list, cls) {
  el.textContent = '';
  for (const t of list || []) {
    const b = document.createElement('span');
    b.className = 'badge ' + (cls || '');
    b.textContent = t;
    el.appendChild(b);
  }
  if (!list || !list.length) el.textContent = 'none';
}

function when(iso) { return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : ''; }

async function loadQueue() {
  const q = new URLSearchParams();
  for (const [id, name] of [['f-queue', 'queue'], ['f-gate', 'gate'], ['f-tier', 'tier'], ['f-due', 'due_within']]) {
    const v = $(id).value.trim();
    if (v) q.set(name, v);
  }
  const data = await api('GET', '/v1/queue' + (q.toString() ? '?' + q : ''));
  const rows = $('queue-rows');
  rows.textContent = '';
  $('queue-count').textContent = '(' + data.count + ')';
  for (const it of data.items) {
    const tr = document.createElement('tr');
    tr.className = 'row';
    tr.dataset.ticket = it.ticket_id;
    cell(tr, it.ticket_id);
    cell(tr, it.queue);
    cell(tr, it.gate);
    cell(tr, it.risk_tier);
    cell(tr, it.intent);
    badges(cell(tr, ''), it.guardrail_types, 'guard');
    cell(tr, it.status);
    cell(tr, when(it.sla_due_at), it.sla_breached ? 'breach' : '');
    cell(tr, when(it.created_at));
    tr.addEventListener('click', () => openTicket(it.ticket_id));
    rows.appendChild(tr);
  }
  show('queue');
}

function dl(el, pairs) {
  el.textContent = '';
  for (const [k, v] of pairs) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v === null || v === undefined ? '' : String(v);
    el.append(dt, dd);
  }
}

function rows(el, list, fields) {
  el.textContent = '';
  for (const item of list || []) {
    const tr = document.createElement('tr');
    for (const f of fields) cell(tr, typeof f === 'function' ? f(item) : item[f]);
    el.appendChild(tr);
  }
}

async function loadOutbox() {
  const data = await api('GET', '/v1/outbox?state=dead');
  $('o-pending').textContent = String(data.counts.pending);
  $('o-sent').textContent = String(data.counts.sent);
  $('o-dead').textContent = String(data.counts.dead);
  rows($('outbox-rows'), data.items, ['id', 'ticket_id', 'kind', (a) => a.target || '',
    'attempts', 'last_error', (a) => when(a.created_at)]);
  show('outbox');
}

async function openTicket(id) {
  const t = await api('GET', '/v1/tickets/' + encodeURIComponent(id));
  state.ticket = t;
  const d = t.decision || {};
  const ev = t.events && t.events.length ? t.events[t.events.length - 1].event : {};
  $('t-id').textContent = t.id;
  const st = $('t-status');
  st.textContent = t.status;
  st.className = 'badge status-' + t.status;
  $('t-message').textContent = (ev && ev.text) || '';
  const pct = (x) => (typeof x === 'number' ? ' (' + Math.round(x * 100) + '%)' : '');
  dl($('t-class'), [
    ['Intent', (d.intent || '') + pct(d.intent_confidence)],
    ['Sentiment', (d.sentiment || '') + pct(d.sentiment_confidence)],
    ['Urgency', d.urgency], ['Frustration', d.frustration],
    ['Language', (d.language || '') + pct(d.language_confidence)],
    ['Channel', d.channel], ['Customer', d.customer_id],
  ]);
  badges($('t-guard'), d.guardrail_types, 'guard');
  const draft = t.draft || (d.draft && d.draft.text) || '';
  $('t-draft').textContent = draft || (d.summary ? 'Summary: ' + d.summary : '(no draft)');
  $('t-edit').value = draft;
  $('t-sources').textContent = ((d.draft && d.draft.sources) || []).join(', ') || 'none';
  $('t-gate').textContent = d.gate || '';
  $('t-tier').textContent = d.risk_tier || '';
  $('t-band').textContent = d.confidence_band || '';
  $('t-queue').textContent = d.routed_queue || '';
  rows($('t-reasons'), d.reasons, ['rule', (r) => r.where || '', 'detail']);
  rows($('t-steps'), d.sop_steps, ['sop', 'index', 'name', 'kind', 'detail', 'status']);
  rows($('t-approvals'), t.approvals, ['user', 'role', 'action', 'step', 'note', (a) => when(a.created_at)]);
  rows($('t-audit'), t.audit, [(a) => when(a.created_at), 'actor', 'action', 'chain', 'seq',
    (a) => (a.hash || '').slice(0, 16)]);
  const open = t.status === 'pending' || t.status === 'awaiting_second';
  $('actions').classList.toggle('hidden', !open);
  const peer = t.peer_review;
  $('t-peer').classList.toggle('hidden', !peer);
  $('t-peer').textContent = peer
    ? 'Peer review: first approval by ' + peer.first_approval_by + ' (' + peer.reason + ')' +
      (t.status === 'awaiting_second' ? '; a different reviewer who is not onboarding approves it.' : '.')
    : '';
  $('approve').textContent = t.status !== 'awaiting_second' ? 'Approve'
    : (peer && d.gate !== 'two_step' ? 'Peer approval' : 'Second approval');
  show('ticket');
}

async function loadMe() {
  const me = await api('GET', '/v1/me');
  const b = $('who-onboarding');
  b.classList.toggle('hidden', !me.onboarding);
  b.textContent = me.onboarding
    ? 'onboarding: ' + me.onboarding_tickets + ' sends (peer review for the first ' +
      me.peer_review_first + ', then ' + Math.round(me.random_review_share * 100) + '%)'
    : '';
}

async function loadShadow() {
  const s = await api('GET', '/v1/shadow');
  const sh = s.shadow;
  $('s-state').textContent = sh
    ? 'Candidate ' + sh.path + ' (version ' + sh.version.slice(0, 12) + ') is decided beside the live policy (' +
      s.live_version.slice(0, 12) + ') on every new ticket since ' + when(sh.since) + ', set by ' + sh.set_by +
      '. It has no effect on decisions or the outbox.'
    : (s.last_version ? 'No shadow policy is set; the results of the last one (' + s.last_version.slice(0, 12) + ') are shown.'
      : 'No shadow policy is set (sopgate serve --shadow FILE, or POST /v1/shadow as an admin).');
  const sum = s.summary;
  const pairs = sum ? [['Evaluated', sum.evaluated], ['Decided differently', sum.differing],
    ['Share', Math.round(sum.differing_share * 1000) / 10 + '%']] : [];
  for (const [f, n] of Object.entries((sum && sum.by_field) || {})) pairs.push(['Differs in ' + f, n]);
  dl($('s-summary'), pairs);
  const body = $('s-diffs');
  body.textContent = '';
  for (const d of s.diffs || []) {
    let first = true;
    for (const [field, v] of Object.entries(d.fields)) {
      const tr = document.createElement('tr');
      tr.dataset.ticket = d.ticket_id;
      tr.dataset.field = field;
      if (first) tr.className = 'diff-first';
      cell(tr, first ? d.ticket_id : '');
      cell(tr, first ? d.event_id : '');
      cell(tr, first ? when(d.created_at) : '');
      cell(tr, field === 'rules' ? 'rules fired under one only' : field);
      cell(tr, field === 'rules' ? v.live_only : v.live);
      cell(tr, field === 'rules' ? v.shadow_only : v.shadow);
      body.appendChild(tr);
      first = false;
    }
  }
  show('shadow');
}

async function act(action) {
  const t = state.ticket;
  if (!t) return;
  const body = {};
  const note = $('t-note').value.trim();
  if (note) body.note = note;
  if (action === 'edit') body.text = $('t-edit').value;
  try {
    const r = await api('POST', '/v1/tickets/' + encodeURIComponent(t.id) + '/' + action, body);
    flash(action + ' recorded: ticket ' + r.ticket_id + ' is ' + r.status);
    $('t-note').value = '';
    await openTicket(t.id);
  } catch (e) {
    flash(e.message, true);
  }
}

async function start() {
  try {
    const s = await api('GET', '/v1/session');
    state.csrf = s.csrf_token || null;
    state.user = s.user;
    $('who').textContent = s.user + ' (' + s.role + ')';
    await loadMe();
    await loadQueue();
  } catch (e) {
    show('login');
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const s = await api('POST', '/v1/session', { token: $('token').value.trim() });
      $('token').value = '';
      state.csrf = s.csrf_token;
      state.user = s.user;
      $('who').textContent = s.user + ' (' + s.role + ')';
      flash('');
      await loadMe();
      await loadQueue();
    } catch (e) {
      flash(e.message, true);
    }
  });
  $('filters').addEventListener('submit', (ev) => { ev.preventDefault(); loadQueue().catch((e) => flash(e.message, true)); });
  $('nav-queue').addEventListener('click', () => { flash(''); loadQueue().catch((e) => flash(e.message, true)); });
  $('nav-shadow').addEventListener('click', () => { flash(''); loadShadow().catch((e) => flash(e.message, true)); });
  $('nav-outbox').addEventListener('click', () => { flash(''); loadOutbox().catch((e) => flash(e.message, true)); });
  $('logout').addEventListener('click', async () => {
    try { await api('DELETE', '/v1/session'); } catch (e) { /* already gone */ }
    state.csrf = null;
    show('login');
  });
  $('approve').addEventListener('click', () => act('approve'));
  $('reject').addEventListener('click', () => act('reject'));
  $('edit').addEventListener('click', () => act('edit'));
  start();
});
