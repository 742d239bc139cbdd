// The parts map: an SVG canvas of IFS parts. Add parts, drag them, draw relations by
// kind (colour and line style, with a legend), tap a part for its detail sheet;
// pinch, wheel or buttons to zoom, "Fit" to see everything. The list view offers the
// same, without a pointer.

import { STORES, getAll } from '../db.js';
import { ATTENTION, deleteItem, saveItem } from '../outbox.js';
import { syncEvents } from '../sync.js';
import {confirmSheet, h, mount, pageTitle, sheet, stateBadge, swap, toast } from '../ui.js';

const ROLES = {
  manager: 'Manager',
  firefighter: 'Firefighter',
  exile: 'Exile',
  self: 'Self',
  unknown: 'Not sure yet',
};
const KINDS = {
  protects: 'protects',
  polarized_with: 'is polarized with',
  allied_with: 'is allied with',
  blended_with: 'is blended with',
};
const R = 34;
const TEXT_FIELDS = [
  ['description', 'What is this part like?', 'textarea'],
  ['body_location', 'Where do I feel it in my body?', 'text'],
  ['positive_intent', 'What is it trying to do for me?', 'textarea'],
  ['burdens', 'What burdens does it carry?', 'textarea'],
  ['fears', 'What is it afraid of?', 'textarea'],
  ['needs', 'What does it need?', 'textarea'],
];
let view = 'map'; // remembered while the app is open
let lastBox = null; // so a redraw after a sync keeps the person's zoom

async function load() {
  const [parts, relations] = await Promise.all([getAll(STORES.part), getAll(STORES.part_relation)]);
  const live = parts.filter((p) => !p.deleted);
  const ids = new Set(live.map((p) => p.id));
  return {
    parts: live,
    relations: relations.filter((r) => !r.deleted && ids.has(r.source_id) && ids.has(r.target_id)),
  };
}

const partData = (p) => {
  const out = { name: p.name, role: p.role || 'unknown', x: Math.round(p.x || 0), y: Math.round(p.y || 0) };
  for (const [f] of TEXT_FIELDS) if (p[f] != null) out[f] = p[f];
  if (p.feelings) out.feelings = p.feelings;
  return out;
};

async function partSheet(part, data) {
  const isNew = !part.version && !part._state;
  const name = h('input', { type: 'text', id: 'part-name', value: part.name || '', maxlength: 100, required: true });
  const role = h('select', { id: 'part-role' }, Object.entries(ROLES).map(([v, l]) => h('option', { value: v }, l)));
  role.value = part.role || 'unknown';
  const feelings = h('input', { type: 'text', id: 'part-feelings', value: (part.feelings || []).join(', ') });
  const texts = TEXT_FIELDS.map(([f, label, kind]) => ({
    f,
    label,
    el: h(kind === 'textarea' ? 'textarea' : 'input', { id: `part-${f}`, type: kind === 'text' ? 'text' : null, value: part[f] || '', class: 'short' }),
  }));
  const rels = data.relations.filter((r) => r.source_id === part.id || r.target_id === part.id);
  const nameOf = (id) => data.parts.find((p) => p.id === id)?.name || 'a part';
  const body = h(
    'form',
    { id: 'part-form' },
    !isNew && h('p', {}, stateBadge(part.conflict_of ? ATTENTION : part._state)),
    part.conflict_of && h('p', { class: 'banner attention' }, `This is a copy of “${nameOf(part.conflict_of)}”, changed on two devices at once. Keep what you need, then delete the copy.`),
    h('label', { for: 'part-name' }, 'Name'),
    name,
    h('label', { for: 'part-role' }, 'Role'),
    role,
    h('label', { for: 'part-feelings' }, 'Feelings', h('span', { class: 'hint' }, 'Separate with commas.')),
    feelings,
    texts.map((t) => [h('label', { for: t.el.id }, t.label), t.el]),
    rels.length > 0 &&
      h(
        'section',
        {},
        h('h3', {}, 'Relations'),
        h(
          'ul',
          { class: 'list' },
          rels.map((r) =>
            h(
              'li',
              { class: 'check' },
              h('span', {}, `${nameOf(r.source_id)} ${KINDS[r.kind]} ${nameOf(r.target_id)}`),
              h('button', { type: 'button', class: 'link', onclick: async (e) => { await deleteItem('part_relation', r); e.target.closest('li').remove(); toast('Relation removed'); } }, 'Remove'),
            ),
          ),
        ),
      ),
  );
  const buttons = [{ label: 'Cancel', value: 'cancel' }];
  if (!isNew) buttons.push({ label: 'Delete part', value: 'delete', class: 'danger' });
  buttons.push({ label: isNew ? 'Add part' : 'Save', value: 'save', class: 'primary' });
  const answer = await sheet(isNew ? 'New part' : part.name, body, buttons);
  if (answer === 'save') {
    if (!name.value.trim()) return toast('A part needs a name');
    const next = {
      ...part,
      name: name.value.trim(),
      role: role.value,
      feelings: feelings.value.split(',').map((s) => s.trim()).filter(Boolean).slice(0, 30),
    };
    for (const t of texts) next[t.f] = t.el.value;
    await saveItem('part', next, partData(next));
    toast(isNew ? 'Part added' : 'Part saved');
  } else if (answer === 'delete') {
    if (await confirmSheet(`Delete ${part.name}?`, 'Its relations go too. Entries that name it keep their words.', 'Delete', { danger: true })) {
      await deleteItem('part', part);
      toast('Part deleted');
    }
  }
  return answer;
}

async function relationSheet(data, source, target) {
  const sel = (id, value) => {
    const s = h('select', { id }, data.parts.map((p) => h('option', { value: p.id }, p.name)));
    if (value) s.value = value;
    return s;
  };
  const from = sel('rel-source', source?.id);
  const kind = h('select', { id: 'rel-kind' }, Object.entries(KINDS).map(([v, l]) => h('option', { value: v }, l)));
  const to = sel('rel-target', target?.id || data.parts.find((p) => p.id !== from.value)?.id);
  const answer = await sheet(
    'New relation',
    h('div', {}, h('label', { for: 'rel-source' }, 'This part'), from, h('label', { for: 'rel-kind' }, 'Relation'), kind, h('label', { for: 'rel-target' }, 'That part'), to),
    [{ label: 'Cancel', value: 'cancel' }, { label: 'Add relation', value: 'save', class: 'primary' }],
  );
  if (answer !== 'save') return;
  if (from.value === to.value) return toast('Choose two different parts');
  const rel = { id: crypto.randomUUID(), source_id: from.value, target_id: to.value, kind: kind.value, note: '', version: null };
  await saveItem('part_relation', rel, { source_id: rel.source_id, target_id: rel.target_id, kind: rel.kind, note: '' });
  toast('Relation added');
}

function legend() {
  return h(
    'div',
    { class: 'card small', id: 'legend' },
    h('h2', {}, 'Legend'),
    h(
      'ul',
      { class: 'legend', 'aria-label': 'Relations' },
      Object.entries(KINDS).map(([k, label]) =>
        h('li', {}, h('svg', { viewBox: '0 0 36 12', 'aria-hidden': 'true' }, h('line', { class: `rel rel-${k}`, x1: 2, y1: 6, x2: 34, y2: 6 })), label),
      ),
    ),
    h(
      'ul',
      { class: 'legend', 'aria-label': 'Roles' },
      Object.entries(ROLES).map(([k, label]) => h('li', {}, h('span', { class: `swatch role-${k}`, 'aria-hidden': 'true' }), label)),
    ),
  );
}

function edgePoints(a, b) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = Math.hypot(dx, dy) || 1;
  return { x1: a.x + (dx / len) * R, y1: a.y + (dy / len) * R, x2: b.x - (dx / len) * (R + 4), y2: b.y - (dy / len) * (R + 4) };
}

function mapView(data, redraw) {
  const svg = h('svg', { class: 'map', id: 'parts-canvas', role: 'group', 'aria-label': `Parts map with ${data.parts.length} parts. The list view shows the same.` });
  const defs = h(
    'defs',
    {},
    h('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 8, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' }, h('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' })),
  );
  const edges = h('g', {});
  const nodes = h('g', {});
  mount(svg, defs, edges, nodes);
  let box = { x: -200, y: -200, w: 400, h: 400 };
  const setBox = (b) => {
    box = b;
    lastBox = b;
    svg.setAttribute('viewBox', `${b.x} ${b.y} ${b.w} ${b.h}`);
  };
  const fit = () => {
    if (!data.parts.length) return setBox({ x: -200, y: -200, w: 400, h: 400 });
    const xs = data.parts.map((p) => p.x || 0);
    const ys = data.parts.map((p) => p.y || 0);
    const pad = R * 3; // room for the names under the circles
    const x0 = Math.min(...xs) - pad;
    const y0 = Math.min(...ys) - pad;
    const w = Math.max(Math.max(...xs) + pad - x0, 240);
    const hh = Math.max(Math.max(...ys) + pad - y0, 240);
    return setBox({ x: x0, y: y0, w, h: hh });
  };
  const zoom = (factor, cx = box.x + box.w / 2, cy = box.y + box.h / 2) => {
    const w = Math.min(Math.max(box.w * factor, 120), 6000);
    const k = w / box.w;
    setBox({ x: cx - (cx - box.x) * k, y: cy - (cy - box.y) * k, w, h: box.h * k });
  };
  const toSvg = (evt) => {
    const pt = new DOMPoint(evt.clientX, evt.clientY).matrixTransform(svg.getScreenCTM().inverse());
    return { x: pt.x, y: pt.y };
  };
  const byId = new Map(data.parts.map((p) => [p.id, { ...p, x: p.x || 0, y: p.y || 0 }]));

  let connectFrom = null;
  const hint = h('p', { class: 'muted small', role: 'status', id: 'map-hint' }, 'Drag parts to arrange them. Tap a part to open it.');

  const drawEdges = () => {
    swap(edges, 
      ...data.relations.map((r) => {
        const a = byId.get(r.source_id);
        const b = byId.get(r.target_id);
        return h('line', { class: `rel rel-${r.kind}`, ...edgePoints(a, b), 'marker-end': r.kind === 'protects' ? 'url(#arrow)' : null }, h('title', {}, `${a.name} ${KINDS[r.kind]} ${b.name}`));
      }),
    );
  };

  const tapPart = async (p) => {
    if (connectFrom === 'pick') {
      connectFrom = p;
      hint.textContent = `Now tap the part that ${p.name} relates to.`;
      nodes.querySelector(`[data-id="${p.id}"]`)?.classList.add('selected');
      return;
    }
    if (connectFrom && connectFrom.id !== p.id) {
      const src = connectFrom;
      connectFrom = null;
      await relationSheet(data, src, p);
      redraw();
      return;
    }
    const answer = await partSheet(data.parts.find((x) => x.id === p.id), data);
    if (answer !== 'cancel') redraw();
  };

  for (const p of byId.values()) {
    const g = h(
      'g',
      { class: `part role-${p.role || 'unknown'}`, transform: `translate(${p.x} ${p.y})`, tabindex: '0', role: 'button', 'data-id': p.id, 'aria-label': `${p.name}, ${ROLES[p.role] || ROLES.unknown}` },
      h('circle', { r: R }),
      h('text', { y: R + 18 }, p.name.length > 16 ? `${p.name.slice(0, 15)}…` : p.name),
    );
    let start = null;
    let moved = false;
    g.addEventListener('pointerdown', (evt) => {
      evt.stopPropagation();
      g.setPointerCapture(evt.pointerId);
      const at = toSvg(evt);
      start = { px: at.x, py: at.y, x: p.x, y: p.y };
      moved = false;
      g.dataset.dragging = 'true'; // holds off a redraw from a sync until released
    });
    g.addEventListener('pointermove', (evt) => {
      if (!start) return;
      const at = toSvg(evt);
      if (!moved && Math.hypot(at.x - start.px, at.y - start.py) < 4) return;
      moved = true;
      p.x = start.x + at.x - start.px;
      p.y = start.y + at.y - start.py;
      g.setAttribute('transform', `translate(${p.x} ${p.y})`);
      drawEdges();
    });
    const finish = async () => {
      if (!start) return;
      start = null;
      delete g.dataset.dragging;
      if (moved) await saveItem('part', { ...data.parts.find((x) => x.id === p.id), x: Math.round(p.x), y: Math.round(p.y) }, { x: Math.round(p.x), y: Math.round(p.y) });
      else tapPart(p);
    };
    g.addEventListener('pointerup', finish);
    g.addEventListener('pointercancel', () => {
      start = null;
      delete g.dataset.dragging;
    });
    g.addEventListener('keydown', async (evt) => {
      const step = { ArrowLeft: [-20, 0], ArrowRight: [20, 0], ArrowUp: [0, -20], ArrowDown: [0, 20] }[evt.key];
      if (evt.key === 'Enter' || evt.key === ' ') {
        evt.preventDefault();
        tapPart(p);
      } else if (step) {
        evt.preventDefault();
        p.x += step[0];
        p.y += step[1];
        g.setAttribute('transform', `translate(${p.x} ${p.y})`);
        drawEdges();
        await saveItem('part', { ...data.parts.find((x) => x.id === p.id), x: p.x, y: p.y }, { x: p.x, y: p.y });
      }
    });
    mount(nodes, g);
  }
  drawEdges();

  // pan with one pointer, pinch with two, wheel to zoom
  const pointers = new Map();
  let pan = null;
  let pinch = null;
  svg.addEventListener('pointerdown', (evt) => {
    pointers.set(evt.pointerId, { x: evt.clientX, y: evt.clientY });
    svg.setPointerCapture(evt.pointerId);
    if (pointers.size === 1) pan = { x: evt.clientX, y: evt.clientY, box: { ...box } };
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinch = { d: Math.hypot(a.x - b.x, a.y - b.y), box: { ...box } };
      pan = null;
    }
  });
  svg.addEventListener('pointermove', (evt) => {
    if (!pointers.has(evt.pointerId)) return;
    pointers.set(evt.pointerId, { x: evt.clientX, y: evt.clientY });
    const scale = box.w / svg.clientWidth;
    if (pinch && pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      const d = Math.hypot(a.x - b.x, a.y - b.y) || 1;
      const mid = toSvg({ clientX: (a.x + b.x) / 2, clientY: (a.y + b.y) / 2 });
      box = pinch.box;
      zoom(pinch.d / d, mid.x, mid.y);
    } else if (pan) {
      setBox({ ...pan.box, x: pan.box.x - (evt.clientX - pan.x) * scale, y: pan.box.y - (evt.clientY - pan.y) * scale });
    }
  });
  const release = (evt) => {
    pointers.delete(evt.pointerId);
    if (pointers.size < 2) pinch = null;
    if (!pointers.size) pan = null;
  };
  svg.addEventListener('pointerup', release);
  svg.addEventListener('pointercancel', release);
  svg.addEventListener(
    'wheel',
    (evt) => {
      evt.preventDefault();
      const at = toSvg(evt);
      zoom(evt.deltaY > 0 ? 1.15 : 1 / 1.15, at.x, at.y);
    },
    { passive: false },
  );

  const connect = h('button', { type: 'button', 'aria-pressed': 'false' }, 'Connect parts');
  connect.addEventListener('click', () => {
    const on = connect.getAttribute('aria-pressed') !== 'true';
    connect.setAttribute('aria-pressed', String(on));
    connectFrom = on ? 'pick' : null;
    hint.textContent = on ? 'Tap the first part.' : 'Drag parts to arrange them. Tap a part to open it.';
    nodes.querySelectorAll('.selected').forEach((n) => n.classList.remove('selected'));
  });
  if (lastBox) setBox(lastBox);
  else fit();
  return h(
    'div',
    {},
    h('div', { class: 'actions' }, data.parts.length > 1 && connect),
    hint,
    h(
      'div',
      { class: 'map-wrap' },
      svg,
      h(
        'div',
        { class: 'map-tools' },
        h('button', { type: 'button', 'aria-label': 'Zoom in', onclick: () => zoom(1 / 1.3) }, '+'),
        h('button', { type: 'button', 'aria-label': 'Zoom out', onclick: () => zoom(1.3) }, '−'),
        h('button', { type: 'button', onclick: fit }, 'Fit'),
      ),
    ),
  );
}

function listView(data, redraw) {
  const nameOf = (id) => data.parts.find((p) => p.id === id)?.name;
  return h(
    'div',
    {},
    data.parts.length
      ? h(
          'ul',
          { class: 'list', id: 'parts-list', 'aria-label': 'Parts' },
          data.parts.map((p) => {
            const rels = data.relations.filter((r) => r.source_id === p.id);
            return h(
              'li',
              { class: 'card' },
              h('h2', {}, h('span', { class: `swatch role-${p.role || 'unknown'}`, 'aria-hidden': 'true' }), ` ${p.name}`),
              h('p', { class: 'meta' }, h('span', {}, ROLES[p.role] || ROLES.unknown), stateBadge(p.conflict_of ? ATTENTION : p._state)),
              p.description && h('p', {}, p.description),
              rels.length > 0 && h('ul', {}, rels.map((r) => h('li', {}, `${p.name} ${KINDS[r.kind]} ${nameOf(r.target_id)}`))),
              h('button', { type: 'button', onclick: async () => { if ((await partSheet(p, data)) !== 'cancel') redraw(); } }, `Open ${p.name}`),
            );
          }),
        )
      : h('p', { class: 'muted' }, 'No parts yet.'),
    data.parts.length > 1 && h('button', { type: 'button', onclick: async () => { await relationSheet(data); redraw(); } }, 'Add a relation'),
  );
}

export async function render(root) {
  const body = h('div', {});
  const draw = async () => {
    const data = await load();
    const addPart = async () => {
      const n = data.parts.length;
      const angle = n * 2.4;
      const part = { id: crypto.randomUUID(), name: '', role: 'unknown', x: Math.round(Math.cos(angle) * 40 * Math.sqrt(n)), y: Math.round(Math.sin(angle) * 40 * Math.sqrt(n)), version: null };
      if ((await partSheet(part, data)) === 'save') draw();
    };
    const switcher = h(
      'div',
      { class: 'segmented', role: 'group', 'aria-label': 'View' },
      h('button', { type: 'button', 'aria-pressed': String(view === 'map'), onclick: () => { view = 'map'; draw(); } }, 'Map'),
      h('button', { type: 'button', 'aria-pressed': String(view === 'list'), onclick: () => { view = 'list'; draw(); } }, 'List'),
      h('button', { type: 'button', class: 'primary', onclick: addPart }, 'Add part'),
    );
    swap(body, 
      switcher,
      !data.parts.length && h('p', { class: 'card' }, 'Parts are the voices and feelings inside you: a worried manager, a firefighter that numbs, a young part that hurts. Add the first one you notice.'),
      view === 'map' ? mapView(data, draw) : listView(data, draw),
      legend(),
    );
  };
  mount(root, pageTitle('Parts map'), body);
  await draw();
  const onChange = () => {
    if (!document.querySelector('dialog[open], .map .part.selected, .map [data-dragging]')) draw();
  };
  syncEvents.addEventListener('change', onChange);
  return () => syncEvents.removeEventListener('change', onChange);
}
