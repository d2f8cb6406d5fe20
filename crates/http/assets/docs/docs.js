// Plinth's API reference page. Renders the OpenAPI 3.1 document the server embeds in the
// page (<script type="application/json" id="openapi">): a sidebar of operations by tag with
// a filter box, and each operation with its parameters, request body and responses, `$ref`s
// resolved. Plain DOM, no framework, no build step. Text from the document is only ever set
// as text, never parsed as HTML, so a description cannot inject markup.
'use strict';

(() => {
  const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
  const MAX_DEPTH = 8; // nesting shown before a schema is named only

  /** An element with attributes and children (nodes, strings, arrays; null skipped). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  /** Text with `code` spans, as the documents write them. */
  function prose(text, cls) {
    if (typeof text !== 'string' || !text.trim()) return null;
    return h('p', { class: cls || 'desc' },
      text.split('`').map((part, i) => (i % 2 ? h('code', null, part) : part)));
  }

  const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

  function main() {
    const source = document.getElementById('openapi');
    const root = document.getElementById('app');
    let doc;
    try {
      doc = JSON.parse(source ? source.textContent : '');
    } catch (e) {
      root.append(h('p', { class: 'fatal' }, 'The OpenAPI document could not be read: ', String(e)));
      return;
    }
    if (!isObj(doc)) doc = {};

    /** The value a local `$ref` (`#/components/schemas/X`) points at, or undefined. */
    function pointer(ref) {
      if (typeof ref !== 'string' || !ref.startsWith('#')) return undefined;
      let node = doc;
      for (const raw of ref.slice(1).split('/').slice(1)) {
        let key = raw;
        try { key = decodeURIComponent(raw); } catch (_) { /* keep it as written */ }
        key = key.replace(/~1/g, '/').replace(/~0/g, '~');
        if (!isObj(node) && !Array.isArray(node)) return undefined;
        if (!Object.prototype.hasOwnProperty.call(node, key)) return undefined;
        node = node[key];
      }
      return node;
    }

    /** A parameter, body or response with its `$ref`s followed (not schemas). */
    function deref(v) {
      for (let i = 0; i < 10 && isObj(v) && typeof v.$ref === 'string'; i++) v = pointer(v.$ref);
      return isObj(v) ? v : {};
    }

    const refName = (ref) => ref.split('/').pop();

    /** A schema as a head (type, format, constraints) and a body (its nested fields). */
    function describe(s, depth, seen) {
      const head = [];
      const body = [];
      if (s === false) return { head: [h('span', { class: 'type' }, 'nothing')], body };
      if (!isObj(s)) return { head: [h('span', { class: 'type' }, 'any')], body };
      if (typeof s.$ref === 'string') {
        const name = refName(s.$ref);
        const target = pointer(s.$ref);
        head.push(h('span', { class: 'ref', title: s.$ref }, name));
        if (target === undefined) head.push(h('span', { class: 'flag warn' }, 'unresolved'));
        else if (!seen.has(s.$ref) && depth < MAX_DEPTH) {
          const inner = describe(target, depth, new Set(seen).add(s.$ref));
          return { head: head.concat(inner.head), body: inner.body };
        }
        return { head, body };
      }
      const types = s.type === undefined ? [] : [].concat(s.type);
      let kind = types.join(' | ');
      if (!kind && s.properties) kind = 'object';
      else if (!kind && s.items) kind = 'array';
      const composed = ['oneOf', 'anyOf', 'allOf'].filter((k) => Array.isArray(s[k]));
      if (!kind && !('const' in s) && !s.enum && !composed.length) kind = 'any';
      if (kind) head.push(h('span', { class: 'type' }, kind));
      if (s.format) head.push(h('span', { class: 'format' }, s.format));
      if ('const' in s) head.push(h('code', { class: 'const' }, JSON.stringify(s.const)));
      if (Array.isArray(s.enum)) {
        head.push(h('span', { class: 'enum' }, 'one of ',
          s.enum.map((v, i) => [i ? ', ' : '', h('code', null, JSON.stringify(v))])));
      }
      if (kind.includes('array') || s.items) {
        const items = describe(s.items, depth + 1, seen);
        head.push(h('span', { class: 'of' }, 'of'), items.head);
        body.push(items.body);
      }
      for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength',
        'maxLength', 'minItems', 'maxItems', 'pattern', 'default']) {
        if (k in s) head.push(h('span', { class: 'constraint' }, `${k} `, h('code', null, JSON.stringify(s[k]))));
      }
      for (const k of ['readOnly', 'writeOnly', 'deprecated']) if (s[k] === true) head.push(h('span', { class: 'flag' }, k));
      if (depth >= MAX_DEPTH) return { head, body };
      if (isObj(s.properties)) {
        const required = new Set(Array.isArray(s.required) ? s.required : []);
        body.push(h('ul', { class: 'props' }, Object.entries(s.properties).map(([name, p]) =>
          field(name, required.has(name), p, depth + 1, seen))));
      }
      if (isObj(s.additionalProperties)) {
        body.push(h('ul', { class: 'props' }, field('*', false, s.additionalProperties, depth + 1, seen, 'any other key')));
      }
      for (const k of composed) {
        const label = { oneOf: 'one of', anyOf: 'any of', allOf: 'all of' }[k];
        body.push(h('div', { class: 'variants' }, h('span', { class: 'label' }, label),
          h('ul', { class: 'props' }, s[k].map((v, i) => field(`#${i + 1}`, false, v, depth + 1, seen)))));
      }
      return { head, body };
    }

    /** One property (or variant) of an object schema. */
    function field(name, required, s, depth, seen, note) {
      const d = describe(s, depth, seen);
      return h('li', null,
        h('div', { class: 'field' }, h('code', { class: 'name' }, name),
          required ? h('span', { class: 'req', title: 'required' }, 'required') : null,
          note ? h('span', { class: 'flag' }, note) : null, d.head),
        isObj(s) ? prose(s.description) : null, d.body);
    }

    /** A schema as a block: its head, its description and its fields. */
    function schemaBlock(s) {
      const d = describe(s, 0, new Set());
      return h('div', { class: 'schema' }, h('div', { class: 'field' }, d.head),
        isObj(s) ? prose(s.description) : null, d.body);
    }

    function contentBlocks(content) {
      if (!isObj(content)) return [];
      return Object.entries(content).map(([mime, media]) => h('div', { class: 'media' },
        h('span', { class: 'mime' }, mime), isObj(media) && media.schema !== undefined ? schemaBlock(media.schema) : null));
    }

    /** Path-level parameters, overridden by the operation's own of the same name and place. */
    function parameters(item, op) {
      const byKey = new Map();
      for (const list of [item.parameters, op.parameters]) {
        for (const p of Array.isArray(list) ? list.map(deref) : []) byKey.set(`${p.in}:${p.name}`, p);
      }
      return [...byKey.values()];
    }

    function paramTable(params) {
      return h('table', { class: 'params' },
        h('thead', null, h('tr', null, h('th', null, 'name'), h('th', null, 'in'), h('th', null, 'type'), h('th', null, 'description'))),
        h('tbody', null, params.map((p) => {
          const schema = p.schema !== undefined ? p.schema
            : isObj(p.content) ? (Object.values(p.content)[0] || {}).schema : undefined;
          const d = describe(schema, 0, new Set());
          return h('tr', null,
            h('td', null, h('code', { class: 'name' }, p.name || '?'),
              p.required ? h('span', { class: 'req', title: 'required' }, 'required') : null),
            h('td', null, p.in || ''),
            h('td', null, h('div', { class: 'field' }, d.head), d.body),
            h('td', null, prose(p.description), p.deprecated ? h('span', { class: 'flag' }, 'deprecated') : null));
        })));
    }

    function responseBlock(code, r) {
      const cls = /^[1-5]/.test(code) ? `s${code[0]}` : 'sd';
      const headers = isObj(r.headers) ? Object.entries(r.headers) : [];
      return h('details', { class: 'resp', open: cls === 's2' },
        h('summary', null, h('span', { class: `status ${cls}` }, code), ' ', r.description || ''),
        headers.length ? h('ul', { class: 'props' }, headers.map(([n, v]) => field(n, false, deref(v).schema, 1, new Set(), 'header'))) : null,
        contentBlocks(r.content));
    }

    function security(op) {
      const req = Array.isArray(op.security) ? op.security : Array.isArray(doc.security) ? doc.security : null;
      if (!req) return null;
      const names = req.flatMap((r) => (isObj(r) ? Object.keys(r) : []));
      return h('p', { class: 'auth' }, 'Auth: ', names.length ? names.map((n, i) => [i ? ' or ' : '', h('code', null, n)]) : 'none');
    }

    // Every operation once, under its first tag.
    const ops = [];
    const ids = new Set();
    for (const [path, rawItem] of Object.entries(isObj(doc.paths) ? doc.paths : {})) {
      const item = deref(rawItem);
      for (const method of METHODS) {
        if (!isObj(item[method])) continue;
        const op = item[method];
        let id = `${method}-${path.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
        while (ids.has(id)) id += '_';
        ids.add(id);
        const tag = Array.isArray(op.tags) && typeof op.tags[0] === 'string' ? op.tags[0] : 'other';
        ops.push({ method, path, op, item, id, tag });
      }
    }
    const tagInfo = new Map((Array.isArray(doc.tags) ? doc.tags : []).filter(isObj).map((t) => [t.name, t]));
    const groups = new Map([...tagInfo.keys()].map((t) => [t, []]));
    for (const o of ops) {
      if (!groups.has(o.tag)) groups.set(o.tag, []);
      groups.get(o.tag).push(o);
    }

    function opView(o) {
      const { op, method, path } = o;
      const params = parameters(o.item, op);
      const body = deref(op.requestBody);
      const responses = isObj(op.responses) ? Object.entries(op.responses) : [];
      return h('details', { class: 'op', id: o.id },
        h('summary', null, h('span', { class: `method ${method}` }, method.toUpperCase()),
          h('code', { class: 'path' }, path),
          h('span', { class: 'summary' }, op.summary || op.operationId || ''),
          op.deprecated ? h('span', { class: 'flag' }, 'deprecated') : null),
        h('div', { class: 'op-body' },
          prose(op.description),
          op.summary && op.operationId ? h('p', { class: 'opid' }, 'operationId ', h('code', null, op.operationId)) : null,
          security(op),
          params.length ? [h('h4', null, 'Parameters'), paramTable(params)] : null,
          op.requestBody ? [h('h4', null, 'Request body', body.required ? h('span', { class: 'req' }, 'required') : null),
            prose(body.description), contentBlocks(body.content)] : null,
          responses.length ? [h('h4', null, 'Responses'), responses.map(([code, r]) => responseBlock(code, deref(r)))] : null));
    }

    const info = isObj(doc.info) ? doc.info : {};
    const server = Array.isArray(doc.servers) && isObj(doc.servers[0]) ? String(doc.servers[0].url || '') : '';
    let base = server;
    try { base = new URL(server, window.location.href).href.replace(/\/$/, ''); } catch (_) { /* as written */ }
    const title = info.title || 'API';
    document.title = `${title} API reference`;

    const filter = h('input', { type: 'search', class: 'filter', placeholder: 'Filter (press /)', 'aria-label': 'Filter operations' });
    const count = h('p', { class: 'count' });
    const toc = h('ul', { class: 'toc' });
    const content = h('div', { class: 'ops' });
    const empty = h('p', { class: 'empty', hidden: true }, 'No operation matches the filter.');
    const toggle = h('button', { type: 'button', class: 'toggle' }, 'Expand all');
    const entries = []; // [op, view, toc entry, group section, group toc]

    for (const [tag, list] of groups) {
      if (!list.length) continue;
      const anchor = `tag-${tag.replace(/[^A-Za-z0-9]+/g, '-')}`;
      const section = h('section', { class: 'tag', id: anchor }, h('h2', null, tag), prose((tagInfo.get(tag) || {}).description));
      const sub = h('ul');
      const group = h('li', null, h('a', { href: `#${anchor}`, class: 'tag-link' }, tag), sub);
      for (const o of list) {
        const view = opView(o);
        const link = h('li', null, h('a', { href: `#${o.id}` },
          h('span', { class: `method ${o.method}` }, o.method.toUpperCase()), h('span', { class: 'path' }, o.path)));
        const text = [o.method, o.path, o.tag, o.op.summary, o.op.operationId, o.op.description].join(' ').toLowerCase();
        entries.push({ text, view, link, section, group });
        section.append(view);
        sub.append(link);
      }
      content.append(section);
      toc.append(group);
    }

    function applyFilter() {
      const terms = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      const live = new Set();
      for (const e of entries) {
        const match = terms.every((t) => e.text.includes(t));
        e.view.hidden = !match;
        e.link.hidden = !match;
        if (match) { shown++; live.add(e.section); live.add(e.group); }
      }
      for (const e of entries) { e.section.hidden = !live.has(e.section); e.group.hidden = !live.has(e.group); }
      empty.hidden = shown > 0;
      count.textContent = terms.length ? `${shown} of ${entries.length} operations` : `${entries.length} operations`;
    }

    function openFromHash() {
      let target = null;
      try { target = document.getElementById(decodeURIComponent(window.location.hash.slice(1))); } catch (_) { return; }
      if (target && target.classList.contains('op')) {
        target.open = true;
        target.scrollIntoView({ block: 'start' });
      }
    }

    filter.addEventListener('input', applyFilter);
    toggle.addEventListener('click', () => {
      const open = toggle.textContent === 'Expand all';
      for (const e of entries) e.view.open = open;
      toggle.textContent = open ? 'Collapse all' : 'Expand all';
    });
    document.addEventListener('keydown', (ev) => {
      if (ev.key === '/' && document.activeElement !== filter) { ev.preventDefault(); filter.focus(); }
    });
    window.addEventListener('hashchange', openFromHash);

    root.append(
      h('nav', { class: 'sidebar' }, h('div', { class: 'brand' }, title, h('span', { class: 'version' }, info.version || '')),
        filter, count, toc),
      h('main', null,
        h('header', null, h('h1', null, `${title} API reference`),
          prose(info.description),
          h('p', { class: 'base' }, 'Base URL ', h('code', null, base || '/'), ' · ',
            h('a', { href: 'openapi.json' }, 'openapi.json'), ' · OpenAPI ', String(doc.openapi || '?'), ' ', toggle)),
        content, empty));
    applyFilter();
    openFromHash();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
  else main();
})();
