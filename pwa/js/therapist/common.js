// What every therapist screen shares: API calls that keep the idle clock honest, the
// words for flags and scores, the score chart, the patient's sub-navigation.
// Patient data lives in memory only, in the screen that shows it: nothing here goes
// to IndexedDB or Cache Storage, so there is nothing on the device to leave behind.

import * as api from '../api.js';
import { BANDS } from '../checkin-scoring.js';
import { fmtDate, h } from '../ui.js';

// when this device last reached the server (the server's idle clock restarts then)
export const contact = { at: Date.now() };

// patients' names seen this session, for headings: memory only, cleared at sign-out
export const names = new Map();

export async function patientName(pid) {
  if (!names.has(pid)) {
    for (const r of await get('/caseload?sort=name')) names.set(r.patient_id, r.display_name);
  }
  return names.get(pid) || 'Patient';
}

export async function call(method, path, body) {
  const answer = await api.request(method, path, body);
  contact.at = Date.now();
  return answer;
}
export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body ?? {});
export const put = (path, body) => call('PUT', path, body);
export const del = (path) => call('DELETE', path);

export function problem(err) {
  if (err instanceof api.NetworkError) return 'You seem to be offline. Between needs a connection for your caseload.';
  if (err?.status === 404) return 'Not found, or no longer shared with you.';
  return err?.message || 'Something went wrong. Try again.';
}

export const errorLine = (err) => h('p', { class: 'error', role: 'alert' }, problem(err));

export const REASONS = {
  phq9_item9: 'PHQ-9 item 9 answered above 0',
  daily_safety: 'Answered “yes” to the daily safety question',
};
export const reasonWords = (reason) => REASONS[reason] || 'A check-in answer needs your review';

export const KINDS = {
  dosing: 'Dosing',
  integration: 'Integration',
  preparation: 'Preparation',
  maintenance: 'Maintenance',
};

// A signed change as words: "up 3 (worse)" reads better than an arrow alone
export function change(delta, { higherIsWorse = true } = {}) {
  if (delta == null) return null;
  if (delta === 0) return { arrow: '→', words: 'no change', tone: 'same' };
  const worse = higherIsWorse ? delta > 0 : delta < 0;
  return {
    arrow: delta > 0 ? '↑' : '↓',
    words: `${delta > 0 ? 'up' : 'down'} ${Math.abs(delta)} (${worse ? 'worse' : 'better'})`,
    tone: worse ? 'worse' : 'better',
  };
}

export function patientNav(pid, current, name) {
  const link = (path, label, key) =>
    h('a', { class: `button${key === current ? ' primary' : ''}`, href: `#/patient/${pid}${path}`, 'aria-current': key === current ? 'page' : null }, label);
  return h(
    'nav',
    { class: 'segmented no-print', 'aria-label': `${name}: pages` },
    link('', 'Brief', 'brief'),
    link('/sessions', 'Sessions', 'sessions'),
    link('/plan', 'Plan', 'plan'),
  );
}

// -- the score chart

export const SERIES = {
  phq9: { label: 'PHQ-9', max: 27, value: (p) => p.score, higherIsWorse: true },
  gad7: { label: 'GAD-7', max: 21, value: (p) => p.score, higherIsWorse: true },
  daily: { label: 'Daily mood', max: 10, value: (p) => p.mood, higherIsWorse: false },
};
const W = 420;
const H = 200;
const PAD = { l: 28, r: 10, t: 16, b: 24 };
const DAY = 86_400_000;

// A line of scores over time with session markers and the start of the brief's window.
export function scoreChart(instrument, trend, since) {
  const spec = SERIES[instrument];
  const points = trend.series
    .map((p) => ({ t: new Date(p.answered_at).getTime(), v: spec.value(p), iso: p.answered_at }))
    .filter((p) => p.v != null);
  if (!points.length) return h('p', { class: 'muted' }, `No ${spec.label} answers yet.`);
  const markers = trend.markers.map((m) => ({ ...m, t: new Date(m.starts_at).getTime() }));
  const start = since ? new Date(since).getTime() : null;
  const t0 = Math.min(points[0].t, start ?? Infinity);
  const t1 = Math.max(points[points.length - 1].t, Date.now(), t0 + DAY);
  const x = (t) => PAD.l + ((t - t0) / (t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v) => H - PAD.b - (v / spec.max) * (H - PAD.t - PAD.b);
  const shown = markers.filter((m) => m.t >= t0 && m.t <= t1);
  const last = points[points.length - 1];
  const label = `${spec.label}: ${points.length} answers from ${fmtDate(points[0].iso)}, latest ${last.v} of ${spec.max} on ${fmtDate(last.iso)}; ${shown.filter((m) => m.kind === 'dosing').length} dosing sessions marked.`;
  const bands = (BANDS[instrument] || []).slice(0, -1);
  return h(
    'svg',
    { class: 'chart tchart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label },
    h('line', { class: 'axis', x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b }),
    h('line', { class: 'axis', x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: H - PAD.b }),
    [0, spec.max].map((v) => h('text', { class: 'tick', x: PAD.l - 5, y: y(v) + 4, 'text-anchor': 'end' }, String(v))),
    bands.map(([upper]) => h('line', { class: 'axis band', x1: PAD.l, x2: W - PAD.r, y1: y(upper + 0.5), y2: y(upper + 0.5) })),
    start != null && [
      h('rect', { class: 'window', x: x(start), y: PAD.t, width: Math.max(0, W - PAD.r - x(start)), height: H - PAD.t - PAD.b }),
      h('text', { class: 'tick', x: x(start) + 3, y: H - PAD.b - 4 }, 'since last session'),
    ],
    shown.map((m) => [
      h('line', { class: `marker marker-${m.kind}`, x1: x(m.t), x2: x(m.t), y1: PAD.t, y2: H - PAD.b }),
      m.kind === 'dosing' && h('text', { class: 'marker-label', x: x(m.t) + 2, y: PAD.t - 4 }, 'D'),
    ]),
    h('text', { class: 'tick', x: PAD.l, y: H - 6 }, fmtDate(new Date(t0).toISOString())),
    h('text', { class: 'tick', x: W - PAD.r, y: H - 6, 'text-anchor': 'end' }, fmtDate(new Date(t1).toISOString())),
    points.length > 1 && h('polyline', { class: 'line', points: points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ') }),
    points.map((p) => h('circle', { class: 'dot', cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 3 })),
  );
}

// Latest, baseline, change from baseline, and (PHQ-9) response and remission, as words.
export function scoreFacts(instrument, trend) {
  const spec = SERIES[instrument];
  const values = trend.series.filter((p) => spec.value(p) != null);
  if (!values.length) return null;
  const latest = values[values.length - 1];
  const baseline = instrument === 'daily' ? values[0] : trend.baseline;
  const delta = baseline ? spec.value(latest) - spec.value(baseline) : null;
  const moved = change(delta, { higherIsWorse: spec.higherIsWorse });
  const labels = [];
  if (trend.response) labels.push(h('span', { class: 'badge good' }, 'Response'));
  if (trend.remission) labels.push(h('span', { class: 'badge good' }, 'Remission'));
  return h(
    'p',
    { class: 'facts' },
    h('span', {}, `Latest ${spec.value(latest)}${latest.severity ? ` (${latest.severity})` : ''}`),
    baseline && h('span', {}, `Baseline ${spec.value(baseline)}`),
    moved && h('span', { class: `delta ${moved.tone}` }, `${moved.arrow} ${moved.words} from baseline${trend.percent_change != null && instrument !== 'daily' ? `, ${trend.percent_change}%` : ''}`),
    labels,
  );
}
