// The parts map: an SVG canvas of IFS parts. Add parts, drag them, draw relations by
// kind (colour and line style, with a legend), tap a part for its detail sheet;
// pinch, wheel or buttons to zoom, "Fit" to see everything. The list view offers the
// same, without a pointer.

import { ATTENTION, PART_RELATIONS, PART_ROLES } from '../constants.js';
import { STORES, getAll } from '../db.js';
import { deleteItem, saveItem } from '../outbox.js';
import { syncEvents } from '../sync.js';
import { confirmSheet, h, mount, pageTitle, sheet, stateBadge, swap, toast } from '../ui.js';

const R = 34;
// New parts go to the first free cell of a grid whose cells hold a circle, its name and
// room for a line between rows; the grid grows in shells (1×2, 2×3, 3×4 …) to suit a
// phone held upright. Names are cut to fit a cell, so they never reach a neighbour's.
const SLOT_W = 160;
const SLOT_H = 140;
const NAME_MAX = SLOT_W - 16;
const NAME_PX = 14;
const NAME_TOP = R + 4; // what one part takes on the map, around its centre
const NAME_BOTTOM = R + 26;
const REL_PX = 12;
// short, so a label fits between two neighbours; the legend and each line's title say it whole
const REL_WORDS = { protects: 'protects', polarized_with: 'polarized', allied_with: 'allied', blended_with: 'blended' };
const TEXT_FIELDS = [
  ['description', 'What is this part like?', 'textarea'],
  ['body_location', 'Where do I feel it in my body?', 'text'],
  ['positive_intent', 'What is it trying to do for me?', 'textarea'],
  ['burdens', 'What burdens does it carry?', 'textarea'],
  ['fears', 'What is it afraid of?', 'textarea'],
  ['needs', 'What does it need?', 'textarea'],
];
let view = 'map'; // remembered while the app is open
let lastBox = null; // the person's own zoom and pan, kept across a redraw; else we fit
// "Connect parts" outlives a redraw (a sync refreshes the map) until the person finishes
// or cancels it: null, or { from: null | the id of the first part tapped }
let connecting = null;

let measure = null;
function textWidth(text, px) {
  measure ??= document.createElement('canvas').getContext('2d');
  measure.font = `600 ${px}px ${getComputedStyle(document.documentElement).fontFamily}`;
  return measure.measureText(text).width;
}

// The name as drawn on the map: whole if it fits a cell, else cut with an ellipsis (the
// part's accessible name and its sheet keep it whole).
function mapName(name) {
  if (textWidth(name, NAME_PX) <= NAME_MAX) return name;
  const chars = [...name.slice(0, 200)]; // by code point, never half an emoji
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (textWidth(`${chars.slice(0, mid).join('').trimEnd()}…`, NAME_PX) <= NAME_MAX) lo = mid;
    else hi = mid - 1;
  }
  return `${chars.slice(0, lo).join('').trimEnd()}…`;
}

// Two parts clash when one's circle or name would touch the other's.
const clash = (a, b) => Math.abs(a.x - b.x) < NAME_MAX + 4 && Math.abs(a.y - b.y) < NAME_TOP + NAME_BOTTOM;

function* slots() {
  for (let shell = 0; shell < 200; shell += 1) {
    for (let r = 0; r < shell + 2; r += 1) {
      for (let c = 0; c < shell + 1; c += 1) {
        if (shell === 0 || c === shell || r === shell + 1) yield { x: c * SLOT_W, y: r * SLOT_H };
      }
    }
  }
}

function freeSlot(parts) {
  const placed = parts.map((p) => ({ x: p.x || 0, y: p.y || 0 }));
  for (const slot of slots()) if (!placed.some((p) => clash(p, slot))) return slot;
  return { x: 0, y: 0 };
}

// Where a dropped part may rest: where it was let go, or the nearest spot that clashes
// with no other part.
function nearestFree(at, others) {
  if (!others.some((o) => clash(o, at))) return at;
  for (let d = 20; d < 4000; d += 20) {
    for (let i = 0; i < 16; i += 1) {
      const spot = {
        x: Math.round(at.x + d * Math.cos((i * Math.PI) / 8)),
        y: Math.round(at.y + d * Math.sin((i * Math.PI) / 8)),
      };
      if (!others.some((o) => clash(o, spot))) return spot;
    }
  }
  return at;
}

async function load() {
  const [parts, relations] = await Promise.all([getAll(STORES.part), getAll(STORES.part_relation)]);
  const live = parts.filter((p) => !p.deleted);
  const ids = new Set(live.map((p) => p.id));
  return {
    parts: live,
    relations: relations.filter((r) => !r.deleted && ids.has(r.source_id) && ids.has(r.target_id)),
  };
}

// a name someone typed: isolated for direction, and free to wrap anywhere
const userName = (name) => h('bdi', { class: 'user-text' }, name);

const partData = (p) => {
  const out = { name: p.name, role: p.role || 'unknown', x: Math.round(p.x || 0), y: Math.round(p.y || 0) };
  for (const [f] of TEXT_FIELDS) if (p[f] != null) out[f] = p[f];
  if (p.feelings) out.feelings = p.feelings;
  return out;
};

async function partSheet(part, data) {
  const isNew = !part.version && !part._state;
  const name = h('input', { type: 'text', id: 'part-name', value: part.name || '', maxlength: 100, required: true });
  const role = h(
    'select',
    { id: 'part-role' },
    Object.entries(PART_ROLES).map(([v, l]) => h('option', { value: v }, l)),
  );
  role.value = part.role || 'unknown';
  const feelings = h('input', { type: 'text', id: 'part-feelings', value: (part.feelings || []).join(', ') });
  const texts = TEXT_FIELDS.map(([f, label, kind]) => ({
    f,
    label,
    el: h(kind === 'textarea' ? 'textarea' : 'input', {
      id: `part-${f}`,
      type: kind === 'text' ? 'text' : null,
      value: part[f] || '',
      class: 'short',
    }),
  }));
  const rels = data.relations.filter((r) => r.source_id === part.id || r.target_id === part.id);
  const nameOf = (id) => data.parts.find((p) => p.id === id)?.name || 'a part';
  const bdi = (id) => h('bdi', {}, nameOf(id));
  const body = h(
    'form',
    { id: 'part-form' },
    !isNew && h('p', {}, stateBadge(part.conflict_of ? ATTENTION : part._state)),
    part.conflict_of &&
      h(
        'p',
        { class: 'banner attention user-text' },
        'This is a copy of “',
        bdi(part.conflict_of),
        '”, changed on two devices at once. Keep what you need, then delete the copy.',
      ),
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
              h('span', { class: 'user-text' }, bdi(r.source_id), ` ${PART_RELATIONS[r.kind]} `, bdi(r.target_id)),
              h(
                'button',
                {
                  type: 'button',
                  class: 'link',
                  onclick: async (e) => {
                    await deleteItem('part_relation', r);
                    e.target.closest('li').remove();
                    toast('Relation removed');
                  },
                },
                'Remove',
              ),
            ),
          ),
        ),
      ),
  );
  const buttons = [{ label: 'Cancel', value: 'cancel' }];
  if (!isNew) buttons.push({ label: 'Delete part', value: 'delete', class: 'danger' });
  buttons.push({ label: isNew ? 'Add part' : 'Save', value: 'save', class: 'primary' });
  const answer = await sheet(isNew ? 'New part' : userName(part.name), body, buttons);
  if (answer === 'save') {
    if (!name.value.trim()) return toast('A part needs a name');
    const next = {
      ...part,
      name: name.value.trim(),
      role: role.value,
      feelings: feelings.value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .slice(0, 30),
    };
    for (const t of texts) next[t.f] = t.el.value;
    await saveItem('part', next, partData(next));
    toast(isNew ? 'Part added' : 'Part saved');
  } else if (answer === 'delete') {
    if (
      await confirmSheet(
        h('span', { class: 'user-text' }, 'Delete ', h('bdi', {}, part.name), '?'),
        'Its relations go too. Entries that name it keep their words.',
        'Delete',
        { danger: true },
      )
    ) {
      await deleteItem('part', part);
      toast('Part deleted');
    }
  }
  return answer;
}

async function relationSheet(data, source, target) {
  const sel = (id, value) => {
    const s = h(
      'select',
      { id },
      data.parts.map((p) => h('option', { value: p.id }, p.name)),
    );
    if (value) s.value = value;
    return s;
  };
  const from = sel('rel-source', source?.id);
  const kind = h(
    'select',
    { id: 'rel-kind' },
    Object.entries(PART_RELATIONS).map(([v, l]) => h('option', { value: v }, l)),
  );
  const to = sel('rel-target', target?.id || data.parts.find((p) => p.id !== from.value)?.id);
  const answer = await sheet(
    'New relation',
    h(
      'div',
      {},
      h('label', { for: 'rel-source' }, 'This part'),
      from,
      h('label', { for: 'rel-kind' }, 'Relation'),
      kind,
      h('label', { for: 'rel-target' }, 'That part'),
      to,
    ),
    [
      { label: 'Cancel', value: 'cancel' },
      { label: 'Add relation', value: 'save', class: 'primary' },
    ],
  );
  if (answer !== 'save') return;
  if (from.value === to.value) return toast('Choose two different parts');
  const rel = {
    id: crypto.randomUUID(),
    source_id: from.value,
    target_id: to.value,
    kind: kind.value,
    note: '',
    version: null,
  };
  await saveItem('part_relation', rel, {
    source_id: rel.source_id,
    target_id: rel.target_id,
    kind: rel.kind,
    note: '',
  });
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
      Object.entries(PART_RELATIONS).map(([k, label]) =>
        h(
          'li',
          {},
          h(
            'svg',
            { viewBox: '0 0 36 12', 'aria-hidden': 'true' },
            h('line', { class: `rel rel-${k}`, x1: 2, y1: 6, x2: 34, y2: 6 }),
          ),
          label,
        ),
      ),
    ),
    h(
      'ul',
      { class: 'legend', 'aria-label': 'Roles' },
      Object.entries(PART_ROLES).map(([k, label]) =>
        h('li', {}, h('span', { class: `swatch role-${k}`, 'aria-hidden': 'true' }), label),
      ),
    ),
  );
}

const boxesMeet = (a, b) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
const bezier = (a, c, b, t) => ({
  x: (1 - t) ** 2 * a.x + 2 * (1 - t) * t * c.x + t ** 2 * b.x,
  y: (1 - t) ** 2 * a.y + 2 * (1 - t) * t * c.y + t ** 2 * b.y,
});
const unit = (dx, dy) => {
  const len = Math.hypot(dx, dy) || 1;
  return { x: dx / len, y: dy / len };
};

// A relation's line runs beneath the circles, from rim to rim. It is straight unless a
// third part sits in its way, or another relation joins the same two parts: then it
// bends (a quadratic curve) until it clears them.
function routeEdges(relations, byId) {
  const pairs = new Map();
  for (const r of relations) {
    const key = [r.source_id, r.target_id].sort().join(' ');
    pairs.set(key, [...(pairs.get(key) || []), r]);
  }
  const out = [];
  for (const [key, group] of pairs) {
    const [p, q] = key.split(' ').map((id) => byId.get(id)); // one orientation per pair
    const n = unit(-(q.y - p.y), q.x - p.x);
    const mid = { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 };
    const others = [...byId.values()].filter((o) => o !== p && o !== q);
    const clear = (c) => {
      for (let t = 0.05; t < 0.96; t += 0.05) {
        const at = bezier(p, c, q, t);
        if (others.some((o) => Math.hypot(o.x - at.x, o.y - at.y) < R + 10)) return false;
      }
      return true;
    };
    const used = [];
    group.forEach((r, i) => {
      const base = (i - (group.length - 1) / 2) * 44; // the peak's distance from straight
      const tries = [0, 50, -50, 90, -90, 130, -130, 180, -180, 240, -240].map((d) => base + d);
      const bend =
        tries.find((b) => !used.includes(b) && clear({ x: mid.x + n.x * 2 * b, y: mid.y + n.y * 2 * b })) ?? base;
      used.push(bend);
      const c = { x: mid.x + n.x * 2 * bend, y: mid.y + n.y * 2 * bend };
      const a = byId.get(r.source_id);
      const b = byId.get(r.target_id);
      const ua = unit(c.x - a.x, c.y - a.y);
      const ub = unit(c.x - b.x, c.y - b.y);
      const from = { x: a.x + ua.x * R, y: a.y + ua.y * R };
      const to = { x: b.x + ub.x * (R + 4), y: b.y + ub.y * (R + 4) };
      out.push({ r, a, b, c, from, to, bend, straight: bend === 0 });
    });
  }
  return out;
}

// Each relation's words sit beside its line (never on it, so the line shows whole), on
// the first spot along it that covers no circle, no name, no other label and no line.
function placeLabels(edges, parts) {
  const blocked = [];
  for (const p of parts) {
    blocked.push({ x0: p.x - R - 2, y0: p.y - R - 2, x1: p.x + R + 2, y1: p.y + R + 2 });
    const half = p.labelWidth / 2 + 3;
    blocked.push({ x0: p.x - half, y0: p.y + R + 2, x1: p.x + half, y1: p.y + R + 25 });
  }
  const lines = edges.map((e) => Array.from({ length: 21 }, (_, i) => bezier(e.from, e.c, e.to, i / 20)));
  const onLine = (box, skip) =>
    lines.some(
      (pts, i) => i !== skip && pts.some((pt) => pt.x > box.x0 && pt.x < box.x1 && pt.y > box.y0 && pt.y < box.y1),
    );
  const spots = [];
  for (const extra of [0, 14, 28]) {
    for (const t of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]) for (const side of [1, -1]) spots.push({ t, side, extra });
  }
  return edges.map((e, i) => {
    const text = REL_WORDS[e.r.kind];
    const w = textWidth(text, REL_PX) + 10;
    const hh = REL_PX + 8;
    // a bent line's words go first on the outside of its bend
    const out = { x: e.c.x - (e.from.x + e.to.x) / 2, y: e.c.y - (e.from.y + e.to.y) / 2 };
    const boxAt = ({ t, side, extra }) => {
      const at = bezier(e.from, e.c, e.to, t);
      const d = unit(
        2 * (1 - t) * (e.c.x - e.from.x) + 2 * t * (e.to.x - e.c.x),
        2 * (1 - t) * (e.c.y - e.from.y) + 2 * t * (e.to.y - e.c.y),
      );
      const flip = -d.y * out.x + d.x * out.y < 0 ? -1 : 1;
      const n = { x: -d.y * side * flip, y: d.x * side * flip };
      const off = (Math.abs(n.x) * w) / 2 + (Math.abs(n.y) * hh) / 2 + 3 + extra;
      const cx = at.x + n.x * off;
      const cy = at.y + n.y * off;
      return { x0: cx - w / 2, y0: cy - hh / 2, x1: cx + w / 2, y1: cy + hh / 2, cx, cy };
    };
    const free = (box) => !blocked.some((b) => boxesMeet(b, box));
    const box =
      spots.map(boxAt).find((b) => free(b) && !onLine(b, i)) || spots.map(boxAt).find(free) || boxAt(spots[0]);
    blocked.push(box);
    return { ...box, w, hh, text };
  });
}

const IDLE_HINT = 'Drag parts to arrange them. Tap a part to open it.';

function mapView(data, redraw) {
  const svg = h('svg', {
    class: 'map',
    id: 'parts-canvas',
    role: 'group',
    'aria-label': `Parts map with ${data.parts.length} parts. The list view shows the same.`,
  });
  const defs = h(
    'defs',
    {},
    h(
      'marker',
      {
        id: 'arrow',
        viewBox: '0 0 10 10',
        refX: 8,
        refY: 5,
        markerWidth: 6,
        markerHeight: 6,
        orient: 'auto-start-reverse',
      },
      h('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }),
    ),
  );
  const edges = h('g', {});
  const edgeLabels = h('g', { 'aria-hidden': 'true' }); // each line's <title> says it already
  const nodes = h('g', {});
  mount(svg, defs, edges, nodes, edgeLabels);
  const byId = new Map(data.parts.map((p) => [p.id, { ...p, x: p.x || 0, y: p.y || 0, label: mapName(p.name) }]));
  for (const p of byId.values()) p.labelWidth = textWidth(p.label, NAME_PX);

  let box = { x: -200, y: -200, w: 400, h: 400 };
  const setBox = (b, byPerson = true) => {
    box = b;
    lastBox = byPerson ? b : null;
    svg.setAttribute('viewBox', `${b.x} ${b.y} ${b.w} ${b.h}`);
  };
  let placed = []; // the relation labels as last drawn, for fitting them in view
  // Everything in view, centred, once the map has a size on screen.
  const fit = () => {
    const parts = [...byId.values()];
    if (!parts.length) return setBox({ x: -200, y: -200, w: 400, h: 400 }, false);
    const xs = parts.flatMap((p) => [p.x - Math.max(R, p.labelWidth / 2) - 8, p.x + Math.max(R, p.labelWidth / 2) + 8]);
    const ys = parts.flatMap((p) => [p.y - R - 10, p.y + NAME_BOTTOM + 8]);
    for (const l of placed) (xs.push(l.x0 - 4, l.x1 + 4), ys.push(l.y0 - 4, l.y1 + 4));
    const x0 = Math.min(...xs);
    const y0 = Math.min(...ys);
    const cw = Math.max(...xs) - x0;
    const ch = Math.max(...ys) - y0;
    const width = svg.clientWidth;
    const height = svg.clientHeight;
    if (!width || !height) return setBox({ x: x0, y: y0, w: Math.max(cw, 240), h: Math.max(ch, 240) }, false);
    const k = Math.max(cw / width, ch / height, 240 / width);
    return setBox({ x: x0 - (width * k - cw) / 2, y: y0 - (height * k - ch) / 2, w: width * k, h: height * k }, false);
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

  const hint = h('p', { class: 'muted small user-text', role: 'status', id: 'map-hint' }, IDLE_HINT);
  const connect = h('button', { type: 'button', id: 'connect-parts', 'aria-pressed': 'false' }, 'Connect parts');
  // show the mode as it stands: after a tap, a toggle, or a redraw from a sync
  const showMode = () => {
    if (connecting && byId.size < 2) connecting = null;
    if (connecting?.from && !byId.has(connecting.from)) connecting.from = null; // deleted elsewhere
    connect.setAttribute('aria-pressed', String(Boolean(connecting)));
    const from = connecting?.from && byId.get(connecting.from);
    hint.textContent = !connecting
      ? IDLE_HINT
      : from
        ? `Now tap the part that ${from.name} relates to.`
        : 'Tap the first part.';
    for (const n of nodes.querySelectorAll('.part')) n.classList.toggle('selected', n.dataset.id === connecting?.from);
  };

  const drawEdges = () => {
    const routed = routeEdges(data.relations, byId);
    placed = placeLabels(routed, [...byId.values()]);
    swap(
      edges,
      ...routed.map((e) => {
        const common = {
          class: `rel rel-${e.r.kind}`,
          'data-rel': e.r.id,
          'marker-end': e.r.kind === 'protects' ? 'url(#arrow)' : null,
        };
        const geometry = e.straight
          ? { x1: e.from.x, y1: e.from.y, x2: e.to.x, y2: e.to.y }
          : { d: `M${e.from.x} ${e.from.y} Q${e.c.x} ${e.c.y} ${e.to.x} ${e.to.y}` };
        return h(
          e.straight ? 'line' : 'path',
          { ...common, ...geometry },
          h('title', {}, `${e.a.name} ${PART_RELATIONS[e.r.kind]} ${e.b.name}`),
        );
      }),
    );
    swap(
      edgeLabels,
      ...routed.map((e, i) => {
        const l = placed[i];
        return h(
          'g',
          { class: 'rel-label', 'data-rel': e.r.id },
          h('rect', { x: l.x0, y: l.y0, width: l.w, height: l.hh, rx: 4 }),
          h('text', { x: l.cx, y: l.cy }, l.text),
        );
      }),
    );
  };

  const tapPart = async (p) => {
    if (connecting && !connecting.from) {
      connecting.from = p.id;
      return showMode();
    }
    if (connecting && connecting.from === p.id) {
      connecting.from = null; // a second tap on the same part lets it go
      return showMode();
    }
    if (connecting) {
      const src = byId.get(connecting.from);
      connecting = null;
      showMode();
      await relationSheet(data, src, p);
      redraw();
      return;
    }
    const answer = await partSheet(
      data.parts.find((x) => x.id === p.id),
      data,
    );
    if (answer !== 'cancel') redraw();
  };

  for (const p of byId.values()) {
    const g = h(
      'g',
      {
        class: `part role-${p.role || 'unknown'}`,
        transform: `translate(${p.x} ${p.y})`,
        tabindex: '0',
        role: 'button',
        'data-id': p.id,
        'aria-label': `${p.name}, ${PART_ROLES[p.role] || PART_ROLES.unknown}`,
      },
      h('circle', { r: R }),
      h('text', { y: R + 18 }, p.label),
    );
    const others = () => [...byId.values()].filter((o) => o !== p);
    const moveTo = (at) => {
      p.x = at.x;
      p.y = at.y;
      g.setAttribute('transform', `translate(${p.x} ${p.y})`);
      drawEdges();
    };
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
      moveTo({ x: start.x + at.x - start.px, y: start.y + at.y - start.py });
    });
    const finish = async () => {
      if (!start) return;
      start = null;
      delete g.dataset.dragging;
      if (!moved) return tapPart(p);
      // a part let go on top of another settles beside it, so neither is hidden
      moveTo(nearestFree({ x: Math.round(p.x), y: Math.round(p.y) }, others()));
      await saveItem('part', { ...data.parts.find((x) => x.id === p.id), x: p.x, y: p.y }, { x: p.x, y: p.y });
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
        moveTo({ x: p.x + step[0], y: p.y + step[1] });
        await saveItem('part', { ...data.parts.find((x) => x.id === p.id), x: p.x, y: p.y }, { x: p.x, y: p.y });
      }
    });
    mount(nodes, g);
  }
  drawEdges();
  showMode();

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
      setBox({
        ...pan.box,
        x: pan.box.x - (evt.clientX - pan.x) * scale,
        y: pan.box.y - (evt.clientY - pan.y) * scale,
      });
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

  connect.addEventListener('click', () => {
    connecting = connecting ? null : { from: null };
    showMode();
  });
  if (lastBox) setBox(lastBox);
  else {
    fit();
    requestAnimationFrame(fit); // again once the map has its size on screen
  }
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
        h('button', { type: 'button', onclick: () => fit() }, 'Fit'),
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
              h(
                'h2',
                { class: 'user-text' },
                h('span', { class: `swatch role-${p.role || 'unknown'}`, 'aria-hidden': 'true' }),
                ' ',
                h('bdi', {}, p.name),
              ),
              h(
                'p',
                { class: 'meta' },
                h('span', {}, PART_ROLES[p.role] || PART_ROLES.unknown),
                stateBadge(p.conflict_of ? ATTENTION : p._state),
              ),
              p.description && h('p', { class: 'user-text' }, p.description),
              rels.length > 0 &&
                h(
                  'ul',
                  { class: 'user-text' },
                  rels.map((r) =>
                    h('li', {}, h('bdi', {}, p.name), ` ${PART_RELATIONS[r.kind]} `, h('bdi', {}, nameOf(r.target_id))),
                  ),
                ),
              h(
                'button',
                {
                  type: 'button',
                  class: 'user-text',
                  onclick: async () => {
                    if ((await partSheet(p, data)) !== 'cancel') redraw();
                  },
                },
                h('span', {}, 'Open ', h('bdi', {}, p.name)),
              ),
            );
          }),
        )
      : h('p', { class: 'muted' }, 'No parts yet.'),
    data.parts.length > 1 &&
      h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            await relationSheet(data);
            redraw();
          },
        },
        'Add a relation',
      ),
  );
}

export async function render(root) {
  const body = h('div', {});
  const draw = async () => {
    const data = await load();
    const addPart = async () => {
      const part = { id: crypto.randomUUID(), name: '', role: 'unknown', ...freeSlot(data.parts), version: null };
      if ((await partSheet(part, data)) === 'save') {
        lastBox = null; // fit, so the new part is in view
        draw();
      }
    };
    const switcher = h(
      'div',
      { class: 'segmented', role: 'group', 'aria-label': 'View' },
      h(
        'button',
        {
          type: 'button',
          'aria-pressed': String(view === 'map'),
          onclick: () => {
            view = 'map';
            draw();
          },
        },
        'Map',
      ),
      h(
        'button',
        {
          type: 'button',
          'aria-pressed': String(view === 'list'),
          onclick: () => {
            view = 'list';
            draw();
          },
        },
        'List',
      ),
      h('button', { type: 'button', class: 'primary', onclick: addPart }, 'Add part'),
    );
    // a redraw keeps keyboard focus where it was: on a part, or on a button of the map
    const focused = document.activeElement;
    const within = focused && body.contains(focused);
    const focusId = within ? focused.closest('[data-id]')?.dataset.id : null;
    const focusEl = within && focused.id ? focused.id : null;
    swap(
      body,
      switcher,
      !data.parts.length &&
        h(
          'p',
          { class: 'card' },
          'Parts are the voices and feelings inside you: a worried manager, a firefighter that numbs, a ' +
            'young part that hurts. Add the first one you notice.',
        ),
      view === 'map' ? mapView(data, draw) : listView(data, draw),
      legend(),
    );
    const again = focusId
      ? body.querySelector(`[data-id="${CSS.escape(focusId)}"]`)
      : focusEl
        ? document.getElementById(focusEl)
        : null;
    again?.focus();
  };
  mount(root, pageTitle('Parts map'), body);
  await draw();
  const onChange = () => {
    // a sheet or a drag holds the redraw off; "Connect parts" survives one (see `connecting`)
    if (!document.querySelector('dialog[open], .map [data-dragging]')) draw();
  };
  syncEvents.addEventListener('change', onChange);
  return () => syncEvents.removeEventListener('change', onChange);
}
