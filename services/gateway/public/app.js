/* global document, window, fetch, sessionStorage, location, URLSearchParams */
// The Praxis web client: a small single-page app on the public API, served by the gateway
// from its own origin (no build step, no third-party code, runs under a 'self'-only CSP).
// Pages: sign-up, login with a TOTP step, patients (search, create), a patient with notes,
// the audit log (admins), account (2FA). Tokens live in sessionStorage, for this tab only.
(function () {
  'use strict';

  const API = '/api/v1';
  const STORE = 'praxis.session';
  const app = document.getElementById('app');
  let me = null;

  // ---- DOM helper: elements from data, never HTML strings ----------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
      else if (k === 'class') el.className = v;
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof window.Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  const field = (label, attrs) => h('label', {}, label, h(attrs.rows ? 'textarea' : 'input', attrs));
  const show = (...nodes) => {
    app.replaceChildren(...nodes);
    app.focus();
  };

  function flash(message, bad) {
    const el = document.getElementById('flash');
    el.textContent = message;
    el.className = bad ? 'flash bad' : 'flash';
    el.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => (el.hidden = true), bad ? 8000 : 4000);
  }

  // ---- session and API ---------------------------------------------------------------
  const session = {
    get: () => JSON.parse(sessionStorage.getItem(STORE) || 'null'),
    set: (tokens) => sessionStorage.setItem(STORE, JSON.stringify({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken })),
    clear: () => sessionStorage.removeItem(STORE),
  };

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `Request failed (${status})`);
      this.status = status;
      this.problem = problem || {};
    }
  }

  async function refreshTokens() {
    const s = session.get();
    if (!s || !s.refreshToken) return false;
    const res = await fetch(`${API}/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: s.refreshToken }) });
    if (!res.ok) return false;
    session.set(await res.json());
    return true;
  }

  async function api(method, path, body, retried) {
    const headers = { accept: 'application/json' };
    // A patient's direct-message link is public: no staff session goes with it, and its 401 (a wrong code) ends none.
    const s = path.startsWith('/dm/') ? null : session.get();
    if (s) headers.authorization = `Bearer ${s.accessToken}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status === 401 && s && !retried && !path.startsWith('/auth/login')) {
      if (await refreshTokens()) return api(method, path, body, true);
      session.clear();
      me = null;
      location.hash = '#/login';
      throw new ApiError(401, { detail: 'Your session has ended. Please log in again.' });
    }
    const text = await res.text();
    const data = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  /** Run a form's action with its button disabled; problems are shown, not thrown. */
  function submitting(action) {
    return async (event) => {
      event.preventDefault();
      const form = event.currentTarget;
      const button = form.querySelector('button[type=submit]');
      if (button) button.disabled = true;
      try {
        await action(Object.fromEntries(new window.FormData(form).entries()), form);
      } catch (err) {
        const details = err.problem && err.problem.errors ? ` (${err.problem.errors.map((e) => `${e.path}: ${e.message}`).join('; ')})` : '';
        flash(`${err.message}${details}`, true);
      } finally {
        if (button) button.disabled = false;
      }
    };
  }

  const compact = (obj) => Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== '' && v !== undefined));
  const fullName = (p) => `${p.givenName} ${p.familyName}`;
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

  // ---- pages ---------------------------------------------------------------------------
  function loginPage() {
    const step = h('div');
    const passwordForm = h('form', { class: 'stack', onsubmit: submitting(async (v) => {
      const res = await api('POST', '/auth/login', { tenant: v.tenant.trim(), email: v.email.trim(), password: v.password });
      if (res.mfaRequired) return step.replaceChildren(codeForm(res.mfaToken));
      await signedIn(res);
    }) },
      field('Practice', { name: 'tenant', required: true, autocomplete: 'organization', placeholder: 'your-practice', value: new URLSearchParams(location.hash.split('?')[1] || '').get('practice') || '' }),
      field('Email', { name: 'email', type: 'email', required: true, autocomplete: 'username' }),
      field('Password', { name: 'password', type: 'password', required: true, autocomplete: 'current-password' }),
      h('button', { type: 'submit' }, 'Log in'));
    step.append(passwordForm);
    show(h('div', { class: 'card narrow' }, h('h1', {}, 'Log in'), step,
      h('p', { class: 'muted' }, 'New practice? ', h('a', { href: '#/signup' }, 'Sign up'))));
  }

  function codeForm(mfaToken) {
    return h('form', { class: 'stack', onsubmit: submitting(async (v) => {
      await signedIn(await api('POST', '/auth/mfa/verify', { mfaToken, code: v.code.trim() }));
    }) },
      h('p', {}, 'Enter the 6-digit code from your authenticator app, or a recovery code.'),
      field('Code', { name: 'code', required: true, autocomplete: 'one-time-code', inputmode: 'numeric', autofocus: true }),
      h('button', { type: 'submit' }, 'Verify'));
  }

  async function signedIn(tokens) {
    session.set(tokens);
    me = await api('GET', '/auth/me');
    renderChrome();
    location.hash = '#/patients';
  }

  function signupPage() {
    show(h('div', { class: 'card narrow' }, h('h1', {}, 'Sign up your practice'),
      h('form', { class: 'stack', onsubmit: submitting(async (v) => {
        const slug = v.slug.trim().toLowerCase();
        await api('POST', '/tenants', { name: v.practice.trim(), slug, admin: { name: v.name.trim(), email: v.email.trim(), password: v.password } });
        flash('Practice created. Welcome to Praxis.');
        const res = await api('POST', '/auth/login', { tenant: slug, email: v.email.trim(), password: v.password });
        if (res.mfaRequired) return (location.hash = `#/login?practice=${encodeURIComponent(slug)}`);
        await signedIn(res);
      }) },
        field('Practice name', { name: 'practice', required: true }),
        field('Practice address (slug)', { name: 'slug', required: true, pattern: '[a-z0-9](?:[a-z0-9\\-]*[a-z0-9])?', minlength: 3, maxlength: 40, placeholder: 'riverside-surgery' }),
        field('Your name', { name: 'name', required: true, autocomplete: 'name' }),
        field('Your email', { name: 'email', type: 'email', required: true, autocomplete: 'email' }),
        field('Password (12 characters or more)', { name: 'password', type: 'password', minlength: 12, required: true, autocomplete: 'new-password' }),
        h('button', { type: 'submit' }, 'Create practice')),
      h('p', { class: 'muted' }, 'Already registered? ', h('a', { href: '#/login' }, 'Log in'))));
  }

  function patientRows(items) {
    if (!items.length) return h('p', { class: 'muted' }, 'No patients found.');
    return h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Reference'), h('th', {}, 'Name'), h('th', {}, 'Born'), h('th', {}, 'Added'))),
      h('tbody', {}, items.map((p) => h('tr', { class: 'clickable', 'data-id': p.id, onclick: () => (location.hash = `#/patients/${encodeURIComponent(p.id)}`) },
        h('td', {}, h('span', { class: 'ref' }, p.ref)),
        h('td', {}, h('a', { href: `#/patients/${encodeURIComponent(p.id)}` }, fullName(p)), p.test ? [' ', h('span', { class: 'badge' }, 'test')] : null),
        h('td', {}, p.birthDate),
        h('td', {}, when(p.createdAt))))));
  }

  async function patientsPage() {
    const results = h('div', { id: 'patient-results' }, h('p', { class: 'muted' }, 'Loading…'));
    const load = async (query) => {
      const res = await api('GET', `/patients${query ? `?${new URLSearchParams(query)}` : ''}`);
      results.replaceChildren(patientRows(res.items));
    };
    const createCard = h('div', { class: 'card', hidden: true },
      h('h2', {}, 'New patient'),
      h('form', { class: 'stack', id: 'new-patient', onsubmit: submitting(async (v, form) => {
        const p = await api('POST', '/patients', compact({ givenName: v.givenName.trim(), familyName: v.familyName.trim(), birthDate: v.birthDate, email: v.email.trim(), mobile: v.mobile.trim() }));
        form.reset();
        createCard.hidden = true;
        flash(`Patient ${p.ref} created.`);
        await load();
      }) },
        h('div', { class: 'grid2' },
          field('Given name', { name: 'givenName', required: true }),
          field('Family name', { name: 'familyName', required: true }),
          field('Date of birth', { name: 'birthDate', type: 'date', required: true }),
          field('Mobile (E.164, optional)', { name: 'mobile', type: 'tel', placeholder: '+447700900123' }),
          field('Email (optional)', { name: 'email', type: 'email' })),
        h('div', {}, h('button', { type: 'submit' }, 'Create patient'), ' ', h('button', { type: 'button', class: 'secondary', onclick: () => (createCard.hidden = true) }, 'Cancel'))));
    show(
      h('div', { class: 'toolbar' }, h('h1', {}, 'Patients'), h('button', { type: 'button', id: 'show-new-patient', onclick: () => {
        createCard.hidden = false;
        createCard.querySelector('input').focus();
      } }, 'New patient')),
      createCard,
      h('form', { class: 'row card', onsubmit: submitting(async (v) => load(v.q.trim() ? { [v.by]: v.q.trim() } : undefined)) },
        h('label', {}, 'Search by', h('select', { name: 'by' }, h('option', { value: 'familyName' }, 'Family name'), h('option', { value: 'ref' }, 'Reference'))),
        h('label', {}, 'Search', h('input', { name: 'q', type: 'search', placeholder: 'e.g. Smith or PX-…' })),
        h('button', { type: 'submit' }, 'Search')),
      results);
    await load();
  }

  async function patientPage(id) {
    const p = await api('GET', `/patients/${encodeURIComponent(id)}`);
    const canNotes = me.role === 'admin' || me.role === 'clinician';
    const notes = h('div', {}, h('p', { class: 'muted' }, 'Loading notes…'));
    const loadNotes = async () => {
      const res = await api('GET', `/patients/${encodeURIComponent(id)}/notes`);
      notes.replaceChildren(...(res.items.length ? res.items.map((n) => h('article', { class: 'note' },
        h('h3', {}, n.title), h('div', { class: 'muted' }, when(n.createdAt)), h('pre', {}, n.body))) : [h('p', { class: 'muted' }, 'No notes yet.')]));
    };
    show(
      h('p', {}, h('a', { href: '#/patients' }, '← All patients')),
      h('div', { class: 'card' },
        h('h1', {}, fullName(p), ' ', h('span', { class: 'ref' }, p.ref)),
        h('dl', { class: 'facts' },
          h('dt', {}, 'Date of birth'), h('dd', {}, p.birthDate),
          h('dt', {}, 'Email'), h('dd', {}, p.email || '—'),
          h('dt', {}, 'Mobile'), h('dd', {}, p.mobile || '—'),
          p.address ? [h('dt', {}, 'Address'), h('dd', {}, [p.address.line1, p.address.line2, p.address.city, p.address.postcode].filter(Boolean).join(', '))] : null,
          h('dt', {}, 'Added'), h('dd', {}, when(p.createdAt)))),
      h('div', { class: 'card' }, h('h2', {}, 'Clinical notes'),
        canNotes
          ? [h('form', { class: 'stack', onsubmit: submitting(async (v, form) => {
              await api('POST', `/patients/${encodeURIComponent(id)}/notes`, { title: v.title.trim(), body: v.body });
              form.reset();
              flash('Note saved.');
              await loadNotes();
            }) }, field('Title', { name: 'title', required: true, maxlength: 200 }), field('Note', { name: 'body', rows: 5, required: true }), h('div', {}, h('button', { type: 'submit' }, 'Add note'))), notes]
          : h('p', { class: 'muted' }, 'Clinical notes are not available to receptionists.')));
    if (canNotes) await loadNotes();
    await messagesCard(p);
  }

  // ---- messaging -----------------------------------------------------------------------
  const select = (label, name, options) => h('label', {}, label, h('select', { name }, options.map(([value, text]) => h('option', { value }, text))));
  const statusText = (m) => `${m.status}${m.reason ? ` (${m.reason})` : ''}`;

  /** Message history of one patient, and sending an SMS or email from a template. */
  async function messagesCard(p) {
    const card = h('div', { class: 'card', id: 'messages' }, h('h2', {}, 'Messages'));
    app.append(card);
    const list = h('div', {}, h('p', { class: 'muted' }, 'Loading messages…'));
    const loadMessages = async () => {
      const res = await api('GET', `/messages?patientId=${encodeURIComponent(p.id)}`);
      list.replaceChildren(res.items.length
        ? h('table', { class: 'list', id: 'message-history' }, h('thead', {}, h('tr', {}, h('th', {}, 'Sent'), h('th', {}, 'Channel'), h('th', {}, 'Status'), h('th', {}, 'Provider'), h('th', {}, 'Attempts'))),
          h('tbody', {}, res.items.map((m) => h('tr', {}, h('td', {}, when(m.createdAt)), h('td', {}, m.channel), h('td', {}, statusText(m)), h('td', {}, m.provider || '—'), h('td', {}, String(m.attempts))))))
        : h('p', { class: 'muted' }, 'No messages yet.'));
    };
    let templates = [];
    try {
      templates = (await api('GET', '/templates?limit=200')).items;
    } catch {
      templates = [];
    }
    card.append(
      templates.length
        ? h('form', { class: 'stack', id: 'send-message', onsubmit: submitting(async (v) => {
            const t = templates.find((x) => x.id === v.templateId);
            const variables = compact({ 'appointment.date': v.date, 'appointment.time': v.time });
            await api('POST', '/messages', { patientId: p.id, channel: t.channel, templateId: t.id, ...(Object.keys(variables).length ? { variables } : {}) });
            flash(`Message queued (${t.channel}).`);
            await loadMessages();
          }) },
          select('Template', 'templateId', templates.map((t) => [t.id, `${t.name} (${t.channel})`])),
          h('div', { class: 'row' }, field('Appointment date', { name: 'date', type: 'date' }), field('Appointment time', { name: 'time', type: 'time' })),
          h('div', {}, h('button', { type: 'submit' }, 'Send message')))
        : h('p', { class: 'muted' }, 'No message templates yet.'),
      list);
    await loadMessages();
  }

  /** SMS credits (balance; admins buy) and batch messages with progress. */
  async function messagesPage() {
    const balance = h('strong', { id: 'credit-balance' }, '…');
    const loadBalance = async () => (balance.textContent = String((await api('GET', '/sms-credits')).balance));
    const [templates, patients] = await Promise.all([api('GET', '/templates?limit=200').then((r) => r.items), api('GET', '/patients?limit=200').then((r) => r.items)]);
    const progress = h('div', { id: 'batch-progress' });
    let timer;
    const watch = (id) => {
      window.clearInterval(timer);
      const tick = async () => {
        if (!document.body.contains(progress)) return window.clearInterval(timer);
        const b = await api('GET', `/message-batches/${encodeURIComponent(id)}`);
        const done = b.sent + b.failed + b.blocked;
        progress.replaceChildren(
          h('p', {}, `Batch ${b.status}: ${done} of ${b.total} done — ${b.sent} sent, ${b.failed} failed, ${b.blocked} blocked, ${b.queued} waiting.`),
          h('progress', { max: String(b.total), value: String(done) }),
          b.status === 'running' ? h('button', { type: 'button', onclick: async () => { await api('POST', `/message-batches/${encodeURIComponent(id)}/cancel`); flash('Batch cancelled.'); await tick(); } }, 'Cancel batch') : null);
        if (b.status !== 'running') window.clearInterval(timer);
        await loadBalance();
      };
      timer = window.setInterval(() => tick().catch(() => window.clearInterval(timer)), 1000);
      return tick();
    };
    show(
      h('h1', {}, 'Messages'),
      h('div', { class: 'card' }, h('h2', {}, 'SMS credits'), h('p', {}, 'Balance: ', balance, ' credits (one per SMS part).'),
        me.role === 'admin'
          ? h('form', { class: 'row', id: 'buy-credits', onsubmit: submitting(async (v, form) => {
              const res = await api('POST', '/sms-credits/purchases', { quantity: Number(v.quantity) });
              balance.textContent = String(res.balance);
              form.reset();
              flash(`Credits bought: balance ${res.balance}.`);
            }) }, field('Credits to buy', { name: 'quantity', type: 'number', min: 1, max: 1000000, required: true }), h('div', {}, h('button', { type: 'submit' }, 'Buy credits')))
          : h('p', { class: 'muted' }, 'Only practice admins can buy credits.')),
      h('div', { class: 'card' }, h('h2', {}, 'Batch message'),
        templates.length && patients.length
          ? h('form', { class: 'stack', id: 'batch-form', onsubmit: submitting(async (v) => {
              const t = templates.find((x) => x.id === v.templateId);
              const variables = compact({ 'appointment.date': v.date, 'appointment.time': v.time });
              const res = await api('POST', '/message-batches', { channel: t.channel, templateId: t.id, patientIds: patients.map((x) => x.id), ...(Object.keys(variables).length ? { variables } : {}) });
              flash(`Batch started for ${res.total} patients.`);
              await watch(res.id);
            }) },
            h('p', { class: 'muted' }, `To every patient listed (${patients.length}); each patient's preferences and the credit are checked as their message goes out.`),
            select('Template', 'templateId', templates.map((t) => [t.id, `${t.name} (${t.channel})`])),
            h('div', { class: 'row' }, field('Appointment date', { name: 'date', type: 'date' }), field('Appointment time', { name: 'time', type: 'time' })),
            h('div', {}, h('button', { type: 'submit' }, 'Start batch')))
          : h('p', { class: 'muted' }, 'A batch needs a template and patients.'),
        progress));
    await loadBalance();
  }

  /** The page a patient opens from the emailed link: practice and subject, then the code. */
  async function directMessagePage(token) {
    const path = `/dm/${encodeURIComponent(token)}`;
    let dm;
    try {
      dm = await api('GET', path);
    } catch (err) {
      const why = err.status === 410 ? 'This message has expired. Please contact your practice.' : err.status === 423 ? 'This message is locked after too many wrong codes. Please contact your practice.' : 'This link is not valid.';
      return show(h('div', { class: 'card narrow' }, h('h1', {}, 'Secure message'), h('p', { class: 'error' }, why)));
    }
    const out = h('div', { id: 'dm-body' });
    show(h('div', { class: 'card narrow' },
      h('h1', {}, 'Secure message'),
      h('p', {}, 'From ', h('strong', {}, dm.practice)),
      h('p', {}, 'Subject: ', h('strong', {}, dm.subject)),
      h('form', { class: 'stack', onsubmit: submitting(async (v) => {
        const res = await api('POST', `${path}/unlock`, { code: v.code.trim() });
        out.replaceChildren(h('pre', {}, res.body));
      }) }, field('Access code (texted to you)', { name: 'code', inputmode: 'numeric', pattern: '[0-9]{6}', maxlength: 6, required: true, autocomplete: 'one-time-code' }), h('div', {}, h('button', { type: 'submit' }, 'Open message'))),
      out,
      h('p', { class: 'muted' }, `Available until ${when(dm.expiresAt)}.`)));
  }

  async function auditPage() {
    if (me.role !== 'admin') return show(h('p', { class: 'error' }, 'The audit log is for practice admins.'));
    const out = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    const verdict = h('span', { class: 'muted' });
    const load = async (filters) => {
      const res = await api('GET', `/audit/events?${new URLSearchParams({ order: 'desc', limit: '100', ...compact(filters || {}) })}`);
      out.replaceChildren(res.items.length ? h('table', {},
        h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'When'), h('th', {}, 'Event'), h('th', {}, 'Actor'), h('th', {}, 'Patient'))),
        h('tbody', {}, res.items.map((e) => h('tr', {},
          h('td', {}, e.seq), h('td', {}, when(e.occurredAt)), h('td', {}, h('code', {}, e.type), e.support ? [' ', h('span', { class: 'badge' }, 'support')] : null),
          h('td', {}, `${e.actor.kind} ${e.actor.id === me.id ? '(you)' : e.actor.id}`),
          h('td', {}, e.subject && e.subject.patientId ? h('a', { href: `#/patients/${encodeURIComponent(e.subject.patientId)}` }, 'open') : '—')))))
        : h('p', { class: 'muted' }, 'No events match.'));
    };
    show(h('div', { class: 'toolbar' }, h('h1', {}, 'Audit log'),
      h('div', {}, verdict, ' ', h('button', { type: 'button', class: 'secondary', onclick: async () => {
        try {
          const v = await api('GET', '/audit/verify');
          verdict.textContent = v.ok ? `Chain verified: ${v.entries} entries intact.` : 'Verification FAILED.';
          verdict.className = v.ok ? '' : 'error';
        } catch (err) {
          flash(err.message, true);
        }
      } }, 'Verify chain'))),
      h('form', { class: 'row card', onsubmit: submitting(async (v) => load({ type: v.type.trim(), patientId: v.patientId.trim() })) },
        h('label', {}, 'Event type', h('input', { name: 'type', placeholder: 'records.patient.viewed' })),
        h('label', {}, 'Patient id', h('input', { name: 'patientId' })),
        h('button', { type: 'submit' }, 'Filter')),
      out);
    await load();
  }

  function accountPage() {
    const mfa = h('div');
    const enrol = async () => {
      const res = await api('POST', '/auth/mfa/totp', {});
      mfa.replaceChildren(
        h('p', {}, 'Add this secret to your authenticator app (or open the otpauth link on your phone), then enter the code it shows.'),
        h('p', { class: 'secret', id: 'totp-secret' }, res.secret),
        h('p', {}, h('a', { href: res.otpauthUrl }, 'otpauth link')),
        h('form', { class: 'row', onsubmit: submitting(async (v) => {
          const done = await api('POST', '/auth/mfa/totp/activate', { code: v.code.trim() });
          me = await api('GET', '/auth/me');
          mfa.replaceChildren(h('p', {}, 'Two-factor authentication is on. Keep these recovery codes somewhere safe; each works once.'),
            h('ul', { class: 'codes' }, done.recoveryCodes.map((c) => h('li', {}, c))));
        }) }, field('Code', { name: 'code', required: true, inputmode: 'numeric', autocomplete: 'one-time-code' }), h('button', { type: 'submit' }, 'Turn on')));
    };
    mfa.append(me.mfa && me.mfa.totp
      ? h('p', {}, 'Two-factor authentication is on.')
      : h('div', {}, h('p', {}, 'Two-factor authentication is off.'), h('button', { type: 'button', onclick: () => enrol().catch((e) => flash(e.message, true)) }, 'Set up an authenticator app')));
    show(h('div', { class: 'card' }, h('h1', {}, 'Account'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Name'), h('dd', {}, me.name), h('dt', {}, 'Email'), h('dd', {}, me.email), h('dt', {}, 'Role'), h('dd', {}, me.role),
        h('dt', {}, 'Practice'), h('dd', {}, `${me.tenant.name} (${me.tenant.slug})`))),
    h('div', { class: 'card' }, h('h2', {}, 'Two-factor authentication'), mfa));
  }

  // ---- chrome and routing ------------------------------------------------------------
  function renderChrome() {
    const signed = Boolean(me);
    document.getElementById('nav').hidden = !signed;
    document.getElementById('who').hidden = !signed;
    document.getElementById('nav-audit').hidden = !(me && me.role === 'admin');
    document.getElementById('who-name').textContent = me ? `${me.name} · ${me.role} · ${me.tenant.name}` : '';
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', location.hash.startsWith(a.getAttribute('href')));
  }

  document.getElementById('logout').addEventListener('click', async () => {
    try {
      await api('POST', '/auth/logout');
    } catch {
      // the session is dropped here either way
    }
    session.clear();
    me = null;
    renderChrome();
    flash('You have been logged out.');
    location.hash = '#/login';
  });

  async function render() {
    const route = (location.hash || '#/').slice(1).split('?')[0];
    try {
      if (!me && session.get()) me = await api('GET', '/auth/me').catch(() => null);
      renderChrome();
      if (route === '/signup') return signupPage();
      const dm = /^\/dm\/([A-Za-z0-9_-]+)$/.exec(route);
      if (dm) return await directMessagePage(dm[1]);
      if (!me) return loginPage();
      if (route === '/login' || route === '/' || route === '/patients') return await patientsPage();
      const m = /^\/patients\/([^/]+)$/.exec(route);
      if (m) return await patientPage(decodeURIComponent(m[1]));
      if (route === '/audit') return await auditPage();
      if (route === '/messages') return await messagesPage();
      if (route === '/account') return accountPage();
      show(h('p', {}, 'Page not found. ', h('a', { href: '#/patients' }, 'Go to patients')));
    } catch (err) {
      show(h('div', { class: 'card' }, h('p', { class: 'error' }, err.message || 'Something went wrong.')));
    }
  }

  window.addEventListener('hashchange', render);
  render();
})();
