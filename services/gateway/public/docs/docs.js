/* global document, fetch, Node */
// Renders /openapi.json as a browsable list: one section per tag, one collapsible entry
// per operation with its parameters, request body schema and responses. No dependencies.
(function () {
  'use strict';
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  };
  const json = (v) => el('pre', {}, JSON.stringify(v, null, 2));

  function operation(path, method, op) {
    const isPublic = Array.isArray(op.security) && op.security.length === 0;
    const lock = isPublic ? 'public' : op['x-permission'] ? `token · ${op['x-permission']}` : 'token';
    const body = el('div', { class: 'body' });
    if (op.parameters && op.parameters.length) {
      const rows = op.parameters.map((p) =>
        el(
          'tr',
          {},
          el('td', {}, el('code', {}, p.name)),
          el('td', {}, p.in),
          el('td', {}, p.required ? 'required' : 'optional'),
          el('td', {}, el('code', {}, (p.schema && (p.schema.type || p.schema.format)) || '')),
        ),
      );
      body.append(el('h4', {}, 'Parameters'), el('table', {}, ...rows));
    }
    const rb = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
    if (rb) body.append(el('h4', {}, 'Request body'), json(rb.schema));
    const responses = Object.entries(op.responses || {}).map(([code, r]) =>
      el('tr', {}, el('td', {}, el('code', {}, code)), el('td', {}, r.description || '')),
    );
    body.append(el('h4', {}, 'Responses'), el('table', {}, ...responses));
    const d = el(
      'details',
      { 'data-path': path.toLowerCase() },
      el(
        'summary',
        {},
        el('span', { class: `m ${method}` }, method.toUpperCase()),
        el('code', {}, path),
        el('span', {}, op.summary || ''),
        el('span', { class: 'lock' }, lock),
      ),
      body,
    );
    return d;
  }

  fetch('/openapi.json', { headers: { accept: 'application/json' } })
    .then((r) => r.json())
    .then((doc) => {
      document.getElementById('version').textContent = doc.info.version;
      document.getElementById('description').textContent = doc.info.description || '';
      const groups = new Map();
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(item)) {
          const tag = (op.tags && op.tags[0]) || 'other';
          if (!groups.has(tag)) groups.set(tag, []);
          groups.get(tag).push(operation(path, method, op));
        }
      }
      const main = document.getElementById('ops');
      main.replaceChildren();
      for (const [tag, ops] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        main.append(el('section', {}, el('h2', {}, tag), ...ops));
      }
      document.getElementById('filter').addEventListener('input', (e) => {
        const q = e.target.value.toLowerCase();
        for (const d of main.querySelectorAll('details')) d.hidden = q !== '' && !d.dataset.path.includes(q);
      });
    })
    .catch(() => {
      document.getElementById('ops').textContent = 'Could not load /openapi.json.';
    });
})();
