// Trends: a line chart (SVG) of my scores with dosing-session markers, drawn from the
// check-ins on this device, and the same numbers as a table.

import { STORES, getAll } from '../db.js';
import { BANDS, MAX_SCORE } from '../checkin-scoring.js';
import { fmtDate, h, mount, pageTitle } from '../ui.js';

const SERIES = {
  phq9: { label: 'PHQ-9', max: 27, value: (c) => c.score },
  gad7: { label: 'GAD-7', max: 21, value: (c) => c.score },
  daily: { label: 'Daily mood', max: 10, value: (c) => c.answers?.mood },
};
const W = 360;
const H = 210;
const PAD = { l: 30, r: 12, t: 14, b: 26 };

function chart(points, markers, spec, instrument) {
  const t = points.map((p) => p.t);
  const t0 = Math.min(...t, ...markers.map((m) => m.t));
  const t1 = Math.max(...t, ...markers.map((m) => m.t), t0 + 86_400_000);
  const x = (v) => PAD.l + ((v - t0) / (t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v) => H - PAD.b - (v / spec.max) * (H - PAD.t - PAD.b);
  const bands = (BANDS[instrument] || []).slice(0, -1);
  const last = points[points.length - 1];
  const summary =
    `${spec.label} over time: ${points.length} answers, ` + `latest ${last.v} of ${spec.max} on ${fmtDate(last.iso)}.`;
  return h(
    'svg',
    { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary },
    h('line', { class: 'axis', x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b }),
    h('line', { class: 'axis', x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: H - PAD.b }),
    [0, spec.max].map((v) => h('text', { class: 'tick', x: PAD.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v))),
    bands.map(([upper, name]) => [
      h('line', { class: 'axis', x1: PAD.l, x2: W - PAD.r, y1: y(upper + 0.5), y2: y(upper + 0.5) }),
      h(
        'text',
        { class: 'band-label', x: W - PAD.r, y: y(upper + 0.5) - 3, 'text-anchor': 'end' },
        `${name} ≤ ${upper}`,
      ),
    ]),
    markers.map((m) => [
      h('line', { class: 'marker', x1: x(m.t), x2: x(m.t), y1: PAD.t, y2: H - PAD.b }),
      h(
        'text',
        {
          class: 'marker-label',
          x: x(m.t) > W - 60 ? x(m.t) - 3 : x(m.t) + 3,
          y: PAD.t + 9,
          'text-anchor': x(m.t) > W - 60 ? 'end' : 'start',
        },
        'dosing',
      ),
    ]),
    h('text', { class: 'tick', x: PAD.l, y: H - 8 }, fmtDate(new Date(t0).toISOString())),
    h('text', { class: 'tick', x: W - PAD.r, y: H - 8, 'text-anchor': 'end' }, fmtDate(new Date(t1).toISOString())),
    points.length > 1 && h('polyline', { class: 'line', points: points.map((p) => `${x(p.t)},${y(p.v)}`).join(' ') }),
    points.map((p) => h('circle', { class: 'dot', cx: x(p.t), cy: y(p.v), r: 4 })),
  );
}

export async function render(root, [instrument = 'phq9']) {
  const spec = SERIES[instrument] || SERIES.phq9;
  const [checkins, sessions] = await Promise.all([getAll(STORES.checkin), getAll(STORES.treatment_session)]);
  const points = checkins
    .filter((c) => c.instrument === instrument && !c.deleted && spec.value(c) != null)
    .map((c) => ({ t: new Date(c.answered_at).getTime(), v: spec.value(c), iso: c.answered_at, severity: c.severity }))
    .sort((a, b) => a.t - b.t);
  const markers = points.length
    ? sessions
        .filter((s) => s.kind === 'dosing' && !s.deleted)
        .map((s) => ({ t: new Date(s.starts_at).getTime(), iso: s.starts_at }))
        .filter((m) => m.t >= points[0].t - 30 * 86_400_000 && m.t <= Date.now())
    : [];
  const rows = [
    ...points.map((p) => ({ ...p, kind: 'answer' })),
    ...markers.map((m) => ({ ...m, kind: 'dosing' })),
  ].sort((a, b) => a.t - b.t);
  mount(
    root,
    pageTitle('Trends'),
    h(
      'nav',
      { class: 'segmented', 'aria-label': 'Questionnaire' },
      Object.entries(SERIES).map(([id, s]) =>
        h(
          'a',
          {
            class: `button${id === instrument ? ' primary' : ''}`,
            href: `#/trends/${id}`,
            'aria-current': id === instrument ? 'page' : null,
          },
          s.label,
        ),
      ),
    ),
    points.length
      ? chart(points, markers, spec, instrument)
      : h(
          'p',
          { class: 'card' },
          `No ${spec.label} answers on this device yet. `,
          h('a', { href: `#/checkin/${instrument}` }, 'Answer one now'),
        ),
    points.length > 0 &&
      h(
        'p',
        { class: 'muted small' },
        'Dashed lines mark dosing sessions. Lower scores mean fewer symptoms',
        instrument === 'daily' ? '; for mood, higher is better.' : '.',
      ),
    points.length > 0 &&
      h(
        'details',
        {},
        h('summary', {}, 'Show as a table'),
        h(
          'table',
          {},
          h('caption', { class: 'visually-hidden' }, `${spec.label} answers and dosing sessions`),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Date'),
              h('th', { scope: 'col' }, instrument === 'daily' ? 'Mood' : 'Score'),
              h('th', { scope: 'col' }, 'Note'),
            ),
          ),
          h(
            'tbody',
            {},
            rows.map((r) =>
              h(
                'tr',
                {},
                h('td', {}, fmtDate(r.iso)),
                h('td', {}, r.kind === 'dosing' ? '—' : `${r.v} of ${MAX_SCORE[instrument] || spec.max}`),
                h('td', {}, r.kind === 'dosing' ? 'Dosing session' : r.severity || ''),
              ),
            ),
          ),
        ),
      ),
  );
}
