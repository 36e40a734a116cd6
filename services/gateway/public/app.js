/* global document, window, fetch, sessionStorage, location, URLSearchParams */
// The Praxis web client: a small single-page app on the public API, served by the gateway
// from its own origin (no build step, no third-party code, runs under a 'self'-only CSP).
// Pages: sign-up, login with a TOTP step, patients (search, create), a patient with notes
// and a consent panel (preferences, codes, privacy notices), data rights (admins: notice
// versions, subject access, erasure), the audit log (admins), account (2FA), and the
// public privacy-notice page behind an emailed link (/privacy-notices/ack/<token>). Tokens live in sessionStorage, for this tab only.
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
    // A part a role does not get is passed as null: leave it out (replaceChildren would print "null").
    app.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));
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
    const res = await fetch(`${API}/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: s.refreshToken }),
    });
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
        const details =
          err.problem && err.problem.errors ? ` (${err.problem.errors.map((e) => `${e.path}: ${e.message}`).join('; ')})` : '';
        flash(`${err.message}${details}`, true);
      } finally {
        if (button) button.disabled = false;
      }
    };
  }

  const compact = (obj) => Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== '' && v !== undefined));
  const fullName = (p) => `${p.givenName} ${p.familyName}`;
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
  /** Rows per page of the data-rights lists (the API's cursor pages them). */
  const LIST_PAGE = 10;

  // ---- pages ---------------------------------------------------------------------------
  function loginPage() {
    const step = h('div');
    const passwordForm = h(
      'form',
      {
        class: 'stack',
        onsubmit: submitting(async (v) => {
          const res = await api('POST', '/auth/login', { tenant: v.tenant.trim(), email: v.email.trim(), password: v.password });
          if (res.mfaRequired) return step.replaceChildren(codeForm(res.mfaToken));
          await signedIn(res);
        }),
      },
      field('Practice', {
        name: 'tenant',
        required: true,
        autocomplete: 'organization',
        placeholder: 'your-practice',
        value: new URLSearchParams(location.hash.split('?')[1] || '').get('practice') || '',
      }),
      field('Email', { name: 'email', type: 'email', required: true, autocomplete: 'username' }),
      field('Password', { name: 'password', type: 'password', required: true, autocomplete: 'current-password' }),
      h('button', { type: 'submit' }, 'Log in'),
    );
    step.append(passwordForm);
    show(
      h(
        'div',
        { class: 'card narrow' },
        h('h1', {}, 'Log in'),
        step,
        h('p', { class: 'muted' }, 'New practice? ', h('a', { href: '#/signup' }, 'Sign up')),
      ),
    );
  }

  function codeForm(mfaToken) {
    return h(
      'form',
      {
        class: 'stack',
        onsubmit: submitting(async (v) => {
          await signedIn(await api('POST', '/auth/mfa/verify', { mfaToken, code: v.code.trim() }));
        }),
      },
      h('p', {}, 'Enter the 6-digit code from your authenticator app, or a recovery code.'),
      field('Code', { name: 'code', required: true, autocomplete: 'one-time-code', inputmode: 'numeric', autofocus: true }),
      h('button', { type: 'submit' }, 'Verify'),
    );
  }

  async function signedIn(tokens) {
    session.set(tokens);
    me = await api('GET', '/auth/me');
    renderChrome();
    location.hash = '#/patients';
  }

  function signupPage() {
    show(
      h(
        'div',
        { class: 'card narrow' },
        h('h1', {}, 'Sign up your practice'),
        h(
          'form',
          {
            class: 'stack',
            onsubmit: submitting(async (v) => {
              const slug = v.slug.trim().toLowerCase();
              await api('POST', '/tenants', {
                name: v.practice.trim(),
                slug,
                admin: { name: v.name.trim(), email: v.email.trim(), password: v.password },
              });
              flash('Practice created. Welcome to Praxis.');
              const res = await api('POST', '/auth/login', { tenant: slug, email: v.email.trim(), password: v.password });
              if (res.mfaRequired) return (location.hash = `#/login?practice=${encodeURIComponent(slug)}`);
              await signedIn(res);
            }),
          },
          field('Practice name', { name: 'practice', required: true }),
          field('Practice address (slug)', {
            name: 'slug',
            required: true,
            pattern: '[a-z0-9](?:[a-z0-9\\-]*[a-z0-9])?',
            minlength: 3,
            maxlength: 40,
            placeholder: 'riverside-surgery',
          }),
          field('Your name', { name: 'name', required: true, autocomplete: 'name' }),
          field('Your email', { name: 'email', type: 'email', required: true, autocomplete: 'email' }),
          field('Password (12 characters or more)', {
            name: 'password',
            type: 'password',
            minlength: 12,
            required: true,
            autocomplete: 'new-password',
          }),
          h('button', { type: 'submit' }, 'Create practice'),
        ),
        h('p', { class: 'muted' }, 'Already registered? ', h('a', { href: '#/login' }, 'Log in')),
      ),
    );
  }

  function patientRows(items) {
    if (!items.length) return h('p', { class: 'muted' }, 'No patients found.');
    return h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Reference'), h('th', {}, 'Name'), h('th', {}, 'Born'), h('th', {}, 'Added'))),
      h(
        'tbody',
        {},
        items.map((p) =>
          h(
            'tr',
            { class: 'clickable', 'data-id': p.id, onclick: () => (location.hash = `#/patients/${encodeURIComponent(p.id)}`) },
            h('td', {}, h('span', { class: 'ref' }, p.ref)),
            h(
              'td',
              {},
              h('a', { href: `#/patients/${encodeURIComponent(p.id)}` }, fullName(p)),
              p.test ? [' ', h('span', { class: 'badge' }, 'test')] : null,
            ),
            h('td', {}, p.birthDate),
            h('td', {}, when(p.createdAt)),
          ),
        ),
      ),
    );
  }

  async function patientsPage() {
    const results = h('div', { id: 'patient-results' }, h('p', { class: 'muted' }, 'Loading…'));
    const load = async (query) => {
      const res = await api('GET', `/patients${query ? `?${new URLSearchParams(query)}` : ''}`);
      results.replaceChildren(patientRows(res.items));
    };
    const createCard = h(
      'div',
      { class: 'card', hidden: true },
      h('h2', {}, 'New patient'),
      h(
        'form',
        {
          class: 'stack',
          id: 'new-patient',
          onsubmit: submitting(async (v, form) => {
            const p = await api(
              'POST',
              '/patients',
              compact({
                givenName: v.givenName.trim(),
                familyName: v.familyName.trim(),
                birthDate: v.birthDate,
                email: v.email.trim(),
                mobile: v.mobile.trim(),
              }),
            );
            form.reset();
            createCard.hidden = true;
            flash(`Patient ${p.ref} created.`);
            await load();
          }),
        },
        h(
          'div',
          { class: 'grid2' },
          field('Given name', { name: 'givenName', required: true }),
          field('Family name', { name: 'familyName', required: true }),
          field('Date of birth', { name: 'birthDate', type: 'date', required: true }),
          field('Mobile (E.164, optional)', { name: 'mobile', type: 'tel', placeholder: '+447700900123' }),
          field('Email (optional)', { name: 'email', type: 'email' }),
        ),
        h(
          'div',
          {},
          h('button', { type: 'submit' }, 'Create patient'),
          ' ',
          h('button', { type: 'button', class: 'secondary', onclick: () => (createCard.hidden = true) }, 'Cancel'),
        ),
      ),
    );
    show(
      h(
        'div',
        { class: 'toolbar' },
        h('h1', {}, 'Patients'),
        h(
          'button',
          {
            type: 'button',
            id: 'show-new-patient',
            onclick: () => {
              createCard.hidden = false;
              createCard.querySelector('input').focus();
            },
          },
          'New patient',
        ),
      ),
      createCard,
      h(
        'form',
        { class: 'row card', onsubmit: submitting(async (v) => load(v.q.trim() ? { [v.by]: v.q.trim() } : undefined)) },
        h(
          'label',
          {},
          'Search by',
          h('select', { name: 'by' }, h('option', { value: 'familyName' }, 'Family name'), h('option', { value: 'ref' }, 'Reference')),
        ),
        h('label', {}, 'Search', h('input', { name: 'q', type: 'search', placeholder: 'e.g. Smith or PX-…' })),
        h('button', { type: 'submit' }, 'Search'),
      ),
      results,
    );
    await load();
  }

  async function patientPage(id) {
    const p = await api('GET', `/patients/${encodeURIComponent(id)}`);
    const canNotes = me.role === 'admin' || me.role === 'clinician';
    const notes = h('div', {}, h('p', { class: 'muted' }, 'Loading notes…'));
    const loadNotes = async () => {
      const res = await api('GET', `/patients/${encodeURIComponent(id)}/notes`);
      notes.replaceChildren(
        ...(res.items.length
          ? res.items.map((n) =>
              h('article', { class: 'note' }, h('h3', {}, n.title), h('div', { class: 'muted' }, when(n.createdAt)), h('pre', {}, n.body)),
            )
          : [h('p', { class: 'muted' }, 'No notes yet.')]),
      );
    };
    show(
      h('p', {}, h('a', { href: '#/patients' }, '← All patients')),
      h(
        'div',
        { class: 'card' },
        h('h1', {}, fullName(p), ' ', h('span', { class: 'ref' }, p.ref)),
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'Date of birth'),
          h('dd', {}, p.birthDate),
          h('dt', {}, 'Email'),
          h('dd', {}, p.email || '—'),
          h('dt', {}, 'Mobile'),
          h('dd', {}, p.mobile || '—'),
          p.address
            ? [
                h('dt', {}, 'Address'),
                h('dd', {}, [p.address.line1, p.address.line2, p.address.city, p.address.postcode].filter(Boolean).join(', ')),
              ]
            : null,
          h('dt', {}, 'Added'),
          h('dd', {}, when(p.createdAt)),
        ),
      ),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'Clinical notes'),
        canNotes
          ? [
              h(
                'form',
                {
                  class: 'stack',
                  onsubmit: submitting(async (v, form) => {
                    await api('POST', `/patients/${encodeURIComponent(id)}/notes`, { title: v.title.trim(), body: v.body });
                    form.reset();
                    flash('Note saved.');
                    await loadNotes();
                  }),
                },
                field('Title', { name: 'title', required: true, maxlength: 200 }),
                field('Note', { name: 'body', rows: 5, required: true }),
                h('div', {}, h('button', { type: 'submit' }, 'Add note')),
              ),
              notes,
            ]
          : h('p', { class: 'muted' }, 'Clinical notes are not available to receptionists.'),
      ),
      h('div', { id: 'consent-slot' }),
      me.role === 'admin' ? rightsCard(p) : null,
    );
    document.getElementById('consent-slot').replaceWith(await consentPanel(id));
    if (canNotes) await loadNotes();
    await messagesCard(p);
  }

  // ---- messaging -----------------------------------------------------------------------
  const select = (label, name, options) =>
    h(
      'label',
      {},
      label,
      h(
        'select',
        { name },
        options.map(([value, text]) => h('option', { value }, text)),
      ),
    );
  const statusText = (m) => `${m.status}${m.reason ? ` (${m.reason})` : ''}`;
  /** A template to send and the appointment it may name (one message or a batch). */
  const templateFields = (templates) => [
    select(
      'Template',
      'templateId',
      templates.map((t) => [t.id, `${t.name} (${t.channel})`]),
    ),
    h(
      'div',
      { class: 'row' },
      field('Appointment date', { name: 'date', type: 'date' }),
      field('Appointment time', { name: 'time', type: 'time' }),
    ),
  ];
  /** The chosen template's channel and id, and the appointment variables that were filled in. */
  const templateChoice = (templates, v) => {
    const t = templates.find((x) => x.id === v.templateId);
    const variables = compact({ 'appointment.date': v.date, 'appointment.time': v.time });
    return { channel: t.channel, templateId: t.id, ...(Object.keys(variables).length ? { variables } : {}) };
  };

  /** Message history of one patient, and sending an SMS or email from a template. */
  async function messagesCard(p) {
    const card = h('div', { class: 'card', id: 'messages' }, h('h2', {}, 'Messages'));
    app.append(card);
    const list = h('div', {}, h('p', { class: 'muted' }, 'Loading messages…'));
    const loadMessages = async () => {
      let res;
      try {
        res = await api('GET', `/messages?patientId=${encodeURIComponent(p.id)}`);
      } catch (err) {
        // Messaging being down must not take the patient's record off the screen.
        list.replaceChildren(h('p', { class: 'muted' }, `Messages are not available right now (${err.message || 'error'}).`));
        return;
      }
      list.replaceChildren(
        res.items.length
          ? h(
              'table',
              { class: 'list', id: 'message-history' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  h('th', {}, 'Sent'),
                  h('th', {}, 'Channel'),
                  h('th', {}, 'Status'),
                  h('th', {}, 'Provider'),
                  h('th', {}, 'Attempts'),
                ),
              ),
              h(
                'tbody',
                {},
                res.items.map((m) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, when(m.createdAt)),
                    h('td', {}, m.channel),
                    h('td', {}, statusText(m)),
                    h('td', {}, m.provider || '—'),
                    h('td', {}, String(m.attempts)),
                  ),
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'No messages yet.'),
      );
    };
    let templates = [];
    try {
      templates = (await api('GET', '/templates?limit=200')).items;
    } catch {
      templates = [];
    }
    card.append(
      templates.length
        ? h(
            'form',
            {
              class: 'stack',
              id: 'send-message',
              onsubmit: submitting(async (v) => {
                const chosen = templateChoice(templates, v);
                await api('POST', '/messages', { patientId: p.id, ...chosen });
                flash(`Message queued (${chosen.channel}).`);
                await loadMessages();
              }),
            },
            templateFields(templates),
            h('div', {}, h('button', { type: 'submit' }, 'Send message')),
          )
        : h('p', { class: 'muted' }, 'No message templates yet.'),
      list,
    );
    await loadMessages();
  }

  /** SMS credits (balance; admins buy) and batch messages with progress. */
  async function messagesPage() {
    const balance = h('strong', { id: 'credit-balance' }, '…');
    const loadBalance = async () => (balance.textContent = String((await api('GET', '/sms-credits')).balance));
    const [templates, patients] = await Promise.all([
      api('GET', '/templates?limit=200').then((r) => r.items),
      api('GET', '/patients?limit=200').then((r) => r.items),
    ]);
    const progress = h('div', { id: 'batch-progress' });
    let timer;
    const watch = (id) => {
      window.clearInterval(timer);
      const tick = async () => {
        if (!document.body.contains(progress)) return window.clearInterval(timer);
        const b = await api('GET', `/message-batches/${encodeURIComponent(id)}`);
        const done = b.sent + b.failed + b.blocked;
        progress.replaceChildren(
          h(
            'p',
            {},
            `Batch ${b.status}: ${done} of ${b.total} done — ${b.sent} sent, ${b.failed} failed, ${b.blocked} blocked, ${b.queued} waiting.`,
          ),
          h('progress', { max: String(b.total), value: String(done) }),
          // h() would render a null child as the text "null": the button only while the batch runs.
          ...(b.status === 'running'
            ? [
                h(
                  'button',
                  {
                    type: 'button',
                    onclick: async () => {
                      await api('POST', `/message-batches/${encodeURIComponent(id)}/cancel`);
                      flash('Batch cancelled.');
                      await tick();
                    },
                  },
                  'Cancel batch',
                ),
              ]
            : []),
        );
        if (b.status !== 'running') window.clearInterval(timer);
        await loadBalance();
      };
      // One failed poll (a busy gateway, a restart) must not freeze the progress: keep asking
      // until the batch is no longer running; the page says when the last answer failed.
      timer = window.setInterval(
        () =>
          tick().catch((err) => {
            if (!document.body.contains(progress)) return window.clearInterval(timer);
            const note = progress.querySelector('.progress-note') || progress.appendChild(h('p', { class: 'muted progress-note' }));
            note.textContent = `Progress not updated just now (${err.message || 'error'}); trying again.`;
          }),
        1000,
      );
      return tick().catch(() => undefined);
    };
    show(
      h('h1', {}, 'Messages'),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'SMS credits'),
        h('p', {}, 'Balance: ', balance, ' credits (one per SMS part).'),
        me.role === 'admin'
          ? h(
              'form',
              {
                class: 'row',
                id: 'buy-credits',
                onsubmit: submitting(async (v, form) => {
                  const res = await api('POST', '/sms-credits/purchases', { quantity: Number(v.quantity) });
                  balance.textContent = String(res.balance);
                  form.reset();
                  flash(`Credits bought: balance ${res.balance}.`);
                }),
              },
              field('Credits to buy', { name: 'quantity', type: 'number', min: 1, max: 1000000, required: true }),
              h('div', {}, h('button', { type: 'submit' }, 'Buy credits')),
            )
          : h('p', { class: 'muted' }, 'Only practice admins can buy credits.'),
      ),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'Batch message'),
        templates.length && patients.length
          ? h(
              'form',
              {
                class: 'stack',
                id: 'batch-form',
                onsubmit: submitting(async (v) => {
                  const res = await api('POST', '/message-batches', {
                    ...templateChoice(templates, v),
                    patientIds: patients.map((x) => x.id),
                  });
                  flash(`Batch started for ${res.total} patients.`);
                  await watch(res.id);
                }),
              },
              h(
                'p',
                { class: 'muted' },
                `To every patient listed (${patients.length}); each patient's preferences and the credit are checked as their message goes out.`,
              ),
              templateFields(templates),
              h('div', {}, h('button', { type: 'submit' }, 'Start batch')),
            )
          : h('p', { class: 'muted' }, 'A batch needs a template and patients.'),
        progress,
      ),
    );
    await loadBalance();
  }

  /** The page a patient opens from the emailed link: practice and subject, then the code. */
  async function directMessagePage(token) {
    const path = `/dm/${encodeURIComponent(token)}`;
    let dm;
    try {
      dm = await api('GET', path);
    } catch (err) {
      const why =
        err.status === 410
          ? 'This message has expired. Please contact your practice.'
          : err.status === 423
            ? 'This message is locked after too many wrong codes. Please contact your practice.'
            : 'This link is not valid.';
      return show(h('div', { class: 'card narrow' }, h('h1', {}, 'Secure message'), h('p', { class: 'error' }, why)));
    }
    const out = h('div', { id: 'dm-body' });
    show(
      h(
        'div',
        { class: 'card narrow' },
        h('h1', {}, 'Secure message'),
        h('p', {}, 'From ', h('strong', {}, dm.practice)),
        h('p', {}, 'Subject: ', h('strong', {}, dm.subject)),
        h(
          'form',
          {
            class: 'stack',
            onsubmit: submitting(async (v) => {
              const res = await api('POST', `${path}/unlock`, { code: v.code.trim() });
              out.replaceChildren(h('pre', {}, res.body));
            }),
          },
          field('Access code (texted to you)', {
            name: 'code',
            inputmode: 'numeric',
            pattern: '[0-9]{6}',
            maxlength: 6,
            required: true,
            autocomplete: 'one-time-code',
          }),
          h('div', {}, h('button', { type: 'submit' }, 'Open message')),
        ),
        out,
        h('p', { class: 'muted' }, `Available until ${when(dm.expiresAt)}.`),
      ),
    );
  }

  // ---- consent panel (every staff role: preferences, codes, notices) ------------------
  const SNOMED = 'http://snomed.info/sct';

  async function consentPanel(id) {
    const card = h(
      'div',
      { class: 'card', id: 'consent-panel' },
      h('h2', {}, 'Consent and preferences'),
      h('p', { class: 'muted' }, 'Loading…'),
    );
    const path = `/patients/${encodeURIComponent(id)}`;
    const load = async () => {
      let c;
      let versions;
      try {
        [c, versions] = await Promise.all([api('GET', `${path}/consent`), api('GET', '/privacy-notice-versions')]);
      } catch (err) {
        card.replaceChildren(
          h('h2', {}, 'Consent and preferences'),
          h('p', { class: 'muted' }, err.status === 503 ? 'The consent service is not available right now.' : err.message),
        );
        return;
      }
      const prefs = h(
        'form',
        {
          class: 'row',
          id: 'preferences-form',
          onsubmit: submitting(async (_v, form) => {
            await api('PUT', `${path}/preferences`, { sms: form.elements.sms.checked, email: form.elements.email.checked });
            flash('Preferences saved.');
            await load();
          }),
        },
        h(
          'label',
          { class: 'check' },
          h('input', { type: 'checkbox', name: 'sms', checked: c.preferences.sms }),
          'Text messages (SMS) allowed',
        ),
        h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'email', checked: c.preferences.email }), 'Email allowed'),
        h('button', { type: 'submit' }, 'Save preferences'),
      );
      const history = c.preferenceHistory.length
        ? h(
            'details',
            {},
            h('summary', {}, `History (${c.preferenceHistory.length} change${c.preferenceHistory.length === 1 ? '' : 's'})`),
            h(
              'ul',
              {},
              c.preferenceHistory.map((x) =>
                h(
                  'li',
                  {},
                  `v${x.version} · SMS ${x.sms ? 'allowed' : 'declined'}, email ${x.email ? 'allowed' : 'declined'} · ${when(x.changedAt)}`,
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No change recorded: both channels allowed by default.');
      const codes = c.codes.length
        ? h(
            'table',
            { id: 'consent-codes' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Kind'), h('th', {}, 'Code'), h('th', {}, 'Meaning'), h('th', {}, 'Recorded'))),
            h(
              'tbody',
              {},
              c.codes.map((x) =>
                h(
                  'tr',
                  {},
                  h('td', {}, h('span', { class: x.kind === 'dissent' ? 'badge' : 'badge ok' }, x.kind)),
                  h('td', {}, h('code', {}, x.code)),
                  h('td', {}, x.display),
                  h('td', {}, when(x.recordedAt)),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No consent or dissent codes.');
      const codeForm = h(
        'form',
        {
          class: 'row',
          id: 'code-form',
          onsubmit: submitting(async (v, form) => {
            await api('POST', `${path}/consent-codes`, {
              kind: v.kind,
              system: v.system === 'snomed' ? SNOMED : v.otherSystem.trim(),
              code: v.code.trim(),
              display: v.display.trim(),
            });
            form.reset();
            flash('Code recorded.');
            await load();
          }),
        },
        h(
          'label',
          {},
          'Kind',
          h('select', { name: 'kind' }, h('option', { value: 'dissent' }, 'Dissent'), h('option', { value: 'consent' }, 'Consent')),
        ),
        h(
          'label',
          {},
          'System',
          h('select', { name: 'system' }, h('option', { value: 'snomed' }, 'SNOMED CT'), h('option', { value: 'other' }, 'Other (URI)')),
        ),
        h('label', {}, 'Other system URI', h('input', { name: 'otherSystem', placeholder: 'urn:…' })),
        h('label', {}, 'Code', h('input', { name: 'code', required: true, placeholder: 'e.g. 38341003' })),
        h('label', {}, 'Meaning', h('input', { name: 'display', required: true, maxlength: 500 })),
        h('button', { type: 'submit' }, 'Record code'),
      );
      const current = versions.items[0];
      const notices = c.notices.length
        ? h(
            'ul',
            { id: 'notice-status' },
            c.notices.map((n) =>
              h('li', {}, `Notice ${n.noticeVersion} · ${n.method === 'email' ? 'by email' : 'in person'} · ${n.status} · ${when(n.at)}`),
            ),
          )
        : h('p', { class: 'muted', id: 'notice-status' }, 'No privacy notice given yet.');
      const noticeForm = current
        ? h(
            'form',
            {
              class: 'row',
              id: 'notice-form',
              onsubmit: submitting(async (v) => {
                const r = await api('POST', `${path}/privacy-notices`, { noticeVersion: v.noticeVersion, method: v.method });
                flash(
                  r.method === 'email' ? 'Notice sent by email; the patient acknowledges through the link.' : 'Acknowledgement recorded.',
                );
                await load();
              }),
            },
            h(
              'label',
              {},
              'Version',
              h(
                'select',
                { name: 'noticeVersion' },
                versions.items.map((x) => h('option', { value: x.version }, `${x.version}${x.current ? ' (current)' : ''}`)),
              ),
            ),
            h(
              'label',
              {},
              'How',
              h(
                'select',
                { name: 'method' },
                h('option', { value: 'in_person' }, 'Acknowledged in person'),
                h('option', { value: 'email' }, 'Send by email'),
              ),
            ),
            h('button', { type: 'submit' }, 'Give notice'),
          )
        : h('p', { class: 'muted' }, 'The practice has no privacy notice yet (admins publish one under Data rights).');
      card.replaceChildren(
        h('h2', {}, 'Consent and preferences'),
        h('h3', {}, 'Contact preferences'),
        prefs,
        history,
        h('h3', {}, 'Consent and dissent codes'),
        codes,
        codeForm,
        h('h3', {}, 'Privacy notice'),
        notices,
        noticeForm,
      );
    };
    await load();
    return card;
  }

  /** Admins: start a subject access request or an erasure from the patient's page. */
  function rightsCard(p) {
    const out = h('div', { id: 'rights-status' });
    return h(
      'div',
      { class: 'card', id: 'rights-card' },
      h('h2', {}, 'Data-subject rights'),
      h(
        'div',
        { class: 'row' },
        h(
          'button',
          {
            type: 'button',
            id: 'start-sar',
            onclick: async () => {
              try {
                const r = await api('POST', '/subject-access-requests', { patientId: p.id });
                flash(`Subject access request opened; due ${new Date(r.dueAt).toLocaleDateString()}.`);
                location.hash = '#/data-rights';
              } catch (err) {
                flash(err.message, true);
              }
            },
          },
          'Subject access request',
        ),
      ),
      h(
        'form',
        {
          class: 'row',
          id: 'erase-form',
          onsubmit: submitting(async (v) => {
            if (!window.confirm(`Erase ${fullName(p)} from every service? This cannot be undone.`)) return;
            const r = await api('POST', '/erasure-requests', { patientId: p.id, reason: v.reason.trim() });
            out.textContent = `Erasure ${r.id}: ${r.status}`;
            location.hash = '#/data-rights';
          }),
        },
        h('label', {}, 'Reason for erasure', h('input', { name: 'reason', required: true, maxlength: 1000 })),
        h('button', { type: 'submit', class: 'danger' }, 'Erase patient'),
      ),
      out,
    );
  }

  // ---- data rights (admins): notice versions, subject access, erasure -----------------
  async function dataRightsPage() {
    if (me.role !== 'admin') return show(h('p', { class: 'error' }, 'Data rights are handled by practice admins.'));
    const versions = h('div');
    const sars = h('div', { id: 'sar-list' });
    const erasures = h('div', { id: 'erasure-list' });
    const badge = (status) => h('span', { class: `status ${status}` }, status);
    const sarRow = (r) =>
      h(
        'tr',
        {},
        h('td', {}, h('a', { href: `#/patients/${encodeURIComponent(r.patientId)}` }, r.patientId)),
        h(
          'td',
          {},
          badge(r.expired ? 'expired' : r.status),
          r.failedParticipant ? ` (${r.failureReason || `${r.failedParticipant} did not answer`})` : '',
          r.retrying
            ? ` (${r.retrying.participant} ${r.retrying.reason} since ${when(r.retrying.since)}; ${r.retrying.attempts} attempts, asked again at ${when(r.retrying.nextAttemptAt)})`
            : '',
        ),
        h('td', {}, new Date(r.dueAt).toLocaleDateString()),
        h(
          'td',
          {},
          r.status === 'completed' && !r.expired
            ? [
                h('button', { type: 'button', class: 'secondary', onclick: () => download(r.id, 'json') }, 'JSON'),
                ' ',
                h('button', { type: 'button', class: 'secondary', onclick: () => download(r.id, 'fhir') }, 'FHIR'),
              ]
            : '—',
        ),
      );
    const erasureRow = (r) =>
      h(
        'tr',
        {},
        h('td', {}, h('code', {}, r.patientId)),
        h('td', {}, badge(r.status), r.missing ? ` (no answer from ${r.missing.join(', ')})` : ''),
        h(
          'td',
          {},
          Object.entries(r.services)
            .map(([name, st]) => `${name}: ${st}`)
            .join(', '),
        ),
        h('td', {}, when(r.createdAt)),
      );
    // Both lists are paged by the API's cursor: the first page on load, then a "More" button
    // fetches the page after the last row shown and appends it, while the API says there is one.
    const pagedList = async (into, list) => {
      const body = h('tbody');
      const more = h('div', { class: 'more' });
      const fetchPage = async (cursor) => {
        const q = new URLSearchParams({ limit: String(LIST_PAGE), ...(cursor ? { cursor } : {}) });
        const page = await api('GET', `${list.path}?${q}`);
        body.append(...page.items.map(list.row));
        const onclick = async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          await fetchPage(page.next).catch((err) => {
            button.disabled = false;
            flash(err.message, true);
          });
        };
        more.replaceChildren(page.next ? h('button', { type: 'button', class: 'secondary', onclick }, list.more) : '');
        return page;
      };
      const first = await fetchPage();
      const head = h(
        'thead',
        {},
        h(
          'tr',
          {},
          list.columns.map((c) => h('th', {}, c)),
        ),
      );
      if (first.items.length) into.replaceChildren(h('table', {}, head, body), more);
      else into.replaceChildren(h('p', { class: 'muted' }, list.empty));
    };
    const load = async () => {
      const [v] = await Promise.all([
        api('GET', '/privacy-notice-versions'),
        pagedList(sars, {
          path: '/subject-access-requests',
          columns: ['Patient', 'Status', 'Due', 'Export'],
          row: sarRow,
          more: 'More subject access requests',
          empty: 'No subject access requests.',
        }),
        pagedList(erasures, {
          path: '/erasure-requests',
          columns: ['Patient', 'Status', 'Services', 'Started'],
          row: erasureRow,
          more: 'More erasure requests',
          empty: 'No erasure requests.',
        }),
      ]);
      versions.replaceChildren(
        v.items.length
          ? h(
              'ul',
              {},
              v.items.map((x) =>
                h('li', {}, h('strong', {}, x.version), x.current ? ' (current) ' : ' ', h('span', { class: 'muted' }, when(x.createdAt))),
              ),
            )
          : h('p', { class: 'muted' }, 'No notice published yet.'),
      );
    };
    const download = async (id, format) => {
      try {
        const data = await api(
          'GET',
          `/subject-access-requests/${encodeURIComponent(id)}/export${format === 'fhir' ? '?format=fhir' : ''}`,
        );
        const url = window.URL.createObjectURL(new window.Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
        const a = h('a', { href: url, download: `subject-access-${id}${format === 'fhir' ? '-fhir' : ''}.json` });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => window.URL.revokeObjectURL(url), 10_000);
      } catch (err) {
        flash(err.message, true);
      }
    };
    show(
      h(
        'div',
        { class: 'toolbar' },
        h('h1', {}, 'Data rights'),
        h('button', { type: 'button', class: 'secondary', onclick: () => load().catch((e) => flash(e.message, true)) }, 'Refresh'),
      ),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'Privacy notice versions'),
        versions,
        h(
          'form',
          {
            class: 'stack',
            id: 'notice-version-form',
            onsubmit: submitting(async (v, form) => {
              await api('POST', '/privacy-notice-versions', { version: v.version.trim(), text: v.text.trim() });
              form.reset();
              flash('Notice version published.');
              await load();
            }),
          },
          field('Version', { name: 'version', required: true, placeholder: '2026-02', pattern: '[A-Za-z0-9_.:\\-]+' }),
          field('Notice text', { name: 'text', rows: 6, required: true }),
          h('div', {}, h('button', { type: 'submit' }, 'Publish version')),
        ),
      ),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'Subject access requests'),
        h('p', { class: 'muted' }, 'Start one from the patient’s page. Due in 30 days; exports can be downloaded for 7 days.'),
        sars,
      ),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'Erasure requests'),
        h('p', { class: 'muted' }, 'Start one from the patient’s page. Every service erases its part and answers.'),
        erasures,
      ),
    );
    await load();
  }

  // ---- the public privacy-notice page behind an emailed link ---------------------------
  async function noticeAckPage(token) {
    const path = `/privacy-notices/ack/${encodeURIComponent(token)}`;
    try {
      const n = await api('GET', path);
      show(
        h(
          'div',
          { class: 'card narrow wide-text' },
          h('h1', {}, 'Privacy notice'),
          h('p', { class: 'muted' }, `${n.practice} · version ${n.version}`),
          h(
            'div',
            { class: 'notice-text' },
            n.text.split(/\n{2,}/).map((para) => h('p', {}, para)),
          ),
          h(
            'form',
            {
              onsubmit: submitting(async () => {
                await api('POST', path);
                show(
                  h(
                    'div',
                    { class: 'card narrow' },
                    h('h1', {}, 'Thank you'),
                    h('p', {}, 'Your acknowledgement has been recorded. You can close this page.'),
                  ),
                );
              }),
            },
            h('button', { type: 'submit' }, 'I have read this notice'),
          ),
        ),
      );
    } catch (err) {
      show(
        h(
          'div',
          { class: 'card narrow' },
          h('h1', {}, 'Privacy notice'),
          h(
            'p',
            { class: 'error' },
            err.status === 410
              ? 'This link has expired. Please ask the practice to send the notice again.'
              : 'This link is not valid or has already been used.',
          ),
        ),
      );
    }
  }

  async function auditPage() {
    if (me.role !== 'admin') return show(h('p', { class: 'error' }, 'The audit log is for practice admins.'));
    const out = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    const verdict = h('span', { class: 'muted' });
    const load = async (filters) => {
      const res = await api('GET', `/audit/events?${new URLSearchParams({ order: 'desc', limit: '100', ...compact(filters || {}) })}`);
      out.replaceChildren(
        res.items.length
          ? h(
              'table',
              {},
              h(
                'thead',
                {},
                h('tr', {}, h('th', {}, '#'), h('th', {}, 'When'), h('th', {}, 'Event'), h('th', {}, 'Actor'), h('th', {}, 'Patient')),
              ),
              h(
                'tbody',
                {},
                res.items.map((e) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, e.seq),
                    h('td', {}, when(e.occurredAt)),
                    h('td', {}, h('code', {}, e.type), e.support ? [' ', h('span', { class: 'badge' }, 'support')] : null),
                    h('td', {}, `${e.actor.kind} ${e.actor.id === me.id ? '(you)' : e.actor.id}`),
                    h(
                      'td',
                      {},
                      e.subject && e.subject.patientId
                        ? h('a', { href: `#/patients/${encodeURIComponent(e.subject.patientId)}` }, 'open')
                        : '—',
                    ),
                  ),
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'No events match.'),
      );
    };
    show(
      h(
        'div',
        { class: 'toolbar' },
        h('h1', {}, 'Audit log'),
        h(
          'div',
          {},
          verdict,
          ' ',
          h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: async () => {
                try {
                  const v = await api('GET', '/audit/verify');
                  verdict.textContent = v.ok ? `Chain verified: ${v.entries} entries intact.` : 'Verification FAILED.';
                  verdict.className = v.ok ? '' : 'error';
                } catch (err) {
                  flash(err.message, true);
                }
              },
            },
            'Verify chain',
          ),
        ),
      ),
      h(
        'form',
        { class: 'row card', onsubmit: submitting(async (v) => load({ type: v.type.trim(), patientId: v.patientId.trim() })) },
        h('label', {}, 'Event type', h('input', { name: 'type', placeholder: 'records.patient.viewed' })),
        h('label', {}, 'Patient id', h('input', { name: 'patientId' })),
        h('button', { type: 'submit' }, 'Filter'),
      ),
      out,
    );
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
        h(
          'form',
          {
            class: 'row',
            onsubmit: submitting(async (v) => {
              const done = await api('POST', '/auth/mfa/totp/activate', { code: v.code.trim() });
              me = await api('GET', '/auth/me');
              mfa.replaceChildren(
                h('p', {}, 'Two-factor authentication is on. Keep these recovery codes somewhere safe; each works once.'),
                h(
                  'ul',
                  { class: 'codes' },
                  done.recoveryCodes.map((c) => h('li', {}, c)),
                ),
              );
            }),
          },
          field('Code', { name: 'code', required: true, inputmode: 'numeric', autocomplete: 'one-time-code' }),
          h('button', { type: 'submit' }, 'Turn on'),
        ),
      );
    };
    mfa.append(
      me.mfa && me.mfa.totp
        ? h('p', {}, 'Two-factor authentication is on.')
        : h(
            'div',
            {},
            h('p', {}, 'Two-factor authentication is off.'),
            h('button', { type: 'button', onclick: () => enrol().catch((e) => flash(e.message, true)) }, 'Set up an authenticator app'),
          ),
    );
    show(
      h(
        'div',
        { class: 'card' },
        h('h1', {}, 'Account'),
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'Name'),
          h('dd', {}, me.name),
          h('dt', {}, 'Email'),
          h('dd', {}, me.email),
          h('dt', {}, 'Role'),
          h('dd', {}, me.role),
          h('dt', {}, 'Practice'),
          h('dd', {}, `${me.tenant.name} (${me.tenant.slug})`),
        ),
      ),
      h('div', { class: 'card' }, h('h2', {}, 'Two-factor authentication'), mfa),
    );
  }

  // ---- chrome and routing ------------------------------------------------------------
  function renderChrome() {
    const signed = Boolean(me);
    document.getElementById('nav').hidden = !signed;
    document.getElementById('who').hidden = !signed;
    document.getElementById('nav-audit').hidden = !(me && me.role === 'admin');
    document.getElementById('nav-rights').hidden = !(me && me.role === 'admin');
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
    const ack = /^\/privacy-notices\/ack\/([A-Za-z0-9_-]{20,100})$/.exec(location.pathname);
    if (ack) return noticeAckPage(ack[1]);
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
      if (route === '/data-rights') return await dataRightsPage();
      if (route === '/account') return accountPage();
      show(h('p', {}, 'Page not found. ', h('a', { href: '#/patients' }, 'Go to patients')));
    } catch (err) {
      show(h('div', { class: 'card' }, h('p', { class: 'error' }, err.message || 'Something went wrong.')));
    }
  }

  window.addEventListener('hashchange', render);
  render();
})();
