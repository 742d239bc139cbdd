// What every therapist screen shares: API calls that keep the idle clock honest, the
// words for flags and scores, the score chart, the patient's sub-navigation.
// Patient data lives in memory only, in the screen that shows it: nothing here goes
// to IndexedDB or Cache Storage, so there is nothing on the device to leave behind.

import * as api from '../api.js';
import { BANDS } from '../checkin-scoring.js';
import { DAY_MS } from '../constants.js';
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
export const patch = (path, body) => call('PATCH', path, body);

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

const INSTRUMENT_NAMES = { phq9: 'PHQ-9', gad7: 'GAD-7', daily: 'Daily check-in' };

// Why a flag was raised, short: "PHQ-9 item 9: several days". Falls back to the
// longer words when the server sends no item words.
export function reasonShort(flag) {
  if (flag.reason === 'phq9_item9' && flag.item_words) return `PHQ-9 item 9: ${flag.item_words}`;
  if (flag.reason === 'daily_safety') return 'Daily safety question: yes';
  if (flag.item_words) return `${INSTRUMENT_NAMES[flag.instrument] || flag.instrument} item: ${flag.item_words}`;
  return reasonWords(flag.reason);
}

// "Mon 30 Nov, 3 PM" in the therapist's language and time zone; minutes only when
// they are not :00. The ISO text carries the patient's offset, so this is the moment
// the patient answered, not when the answer reached the server.
export function fmtWhen(iso, { date = true } = {}) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const options = { hour: 'numeric', ...(d.getMinutes() ? { minute: '2-digit' } : {}) };
  const time = new Intl.DateTimeFormat(undefined, options).format(d);
  if (!date) return time;
  const sameYear = d.getFullYear() === new Date().getFullYear();
  const day = new Intl.DateTimeFormat(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    ...(sameYear ? {} : { year: 'numeric' }),
  }).format(d);
  return `${day}, ${time}`;
}

// "Mon 3 PM": short enough for a caseload row
export function fmtShortWhen(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const weekAgo = Date.now() - 6 * 86_400_000;
  const day =
    d.getTime() > weekAgo
      ? new Intl.DateTimeFormat(undefined, { weekday: 'short' }).format(d)
      : new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' }).format(d);
  return `${day} ${fmtWhen(iso, { date: false })}`;
}

// a name the patient chose, isolated so its direction cannot reorder the words around it
export const bdi = (text) => h('bdi', {}, text ?? '');

export const ACTIONS = {
  contacted_patient: 'Contacted the patient',
  reviewed_safety_plan: 'Reviewed the safety plan',
  seen_in_session: 'Seen in session',
  other: 'Other',
};

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
    h(
      'a',
      {
        class: `button${key === current ? ' primary' : ''}`,
        href: `#/patient/${pid}${path}`,
        'aria-current': key === current ? 'page' : null,
      },
      label,
    );
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
const W = 440;
const H = 210;
const PAD = { l: 30, r: 100, t: 18, b: 26 };
const UPCOMING_DAYS = 30;

// A line of scores over time with session markers (upcoming ones too), the start of the
// brief's window, labelled severity bands, and the answers that raised a flag marked.
// `extra` = { sessions: [{kind, starts_at}], risky: Set of check-in ids }
export function scoreChart(instrument, trend, since, extra = {}) {
  const spec = SERIES[instrument];
  const risky = extra.risky || new Set();
  const points = trend.series
    .map((p) => ({
      t: new Date(p.answered_at).getTime(),
      v: spec.value(p),
      iso: p.answered_at,
      risk: risky.has(String(p.id)),
    }))
    .filter((p) => p.v != null);
  if (!points.length) return h('p', { class: 'muted' }, `No ${spec.label} answers yet.`);
  const now = Date.now();
  const seen = new Set(trend.markers.map((m) => m.id));
  const upcoming = (extra.sessions || [])
    .filter(
      (s) =>
        !seen.has(s.id) &&
        new Date(s.starts_at).getTime() > now &&
        new Date(s.starts_at).getTime() < now + UPCOMING_DAYS * DAY_MS,
    )
    .map((s) => ({ id: s.id, kind: s.kind, starts_at: s.starts_at }));
  const markers = [...trend.markers, ...upcoming].map((m) => ({ ...m, t: new Date(m.starts_at).getTime() }));
  const start = since ? new Date(since).getTime() : null;
  const t0 = Math.min(points[0].t, start ?? Infinity);
  const lastMarker = Math.max(0, ...markers.map((m) => m.t));
  const t1 = Math.max(points[points.length - 1].t, now, lastMarker + DAY_MS / 2, t0 + DAY_MS);
  const right = W - PAD.r;
  const x = (t) => PAD.l + ((t - t0) / (t1 - t0)) * (right - PAD.l);
  const y = (v) => H - PAD.b - (v / spec.max) * (H - PAD.t - PAD.b);
  const shown = markers.filter((m) => m.t >= t0 && m.t <= t1);
  const coming = shown.filter((m) => m.t > now);
  const last = points[points.length - 1];
  const risks = points.filter((p) => p.risk);
  const comingDates = coming.map((m) => `${m.kind} ${fmtDate(m.starts_at)}`).join(', ');
  const riskDates = risks.map((p) => fmtDate(p.iso)).join(', ');
  const riskWords = `${risks.length} answer${risks.length === 1 ? '' : 's'} raised a risk flag (${riskDates})`;
  const label =
    `${spec.label}: ${points.length} answers from ${fmtDate(points[0].iso)}, latest ${last.v} of ${spec.max} ` +
    `on ${fmtDate(last.iso)}; ` +
    `${shown.filter((m) => m.kind === 'dosing' && m.t <= now).length} dosing sessions marked` +
    `${coming.length ? `, ${coming.length} upcoming (${comingDates})` : ''}` +
    `${risks.length ? `; ${riskWords}` : ''}.`;
  const bands = BANDS[instrument] || [];
  let lower = 0;
  const bandShapes = bands.map(([upper, name], n) => {
    const top = Math.min(upper + 0.5, spec.max);
    const bottom = n === 0 ? 0 : lower;
    lower = top;
    const mid = (y(top) + y(bottom)) / 2;
    return [
      n < bands.length - 1 && h('line', { class: 'axis band', x1: PAD.l, x2: right, y1: y(top), y2: y(top) }),
      n < bands.length - 1 &&
        h('text', { class: 'tick', x: PAD.l - 5, y: y(top) + 3.5, 'text-anchor': 'end' }, String(upper)),
      h('text', { class: 'band-label', x: right + 4, y: mid + 3.5 }, name),
    ];
  });
  // the window's label stays inside the chart: to the right of its start, or to the
  // left when the start is in the right half
  const startX = start != null ? x(start) : null;
  const startLabel =
    startX != null &&
    (startX > (PAD.l + right) / 2
      ? h(
          'text',
          { class: 'tick window-label', x: startX - 3, y: PAD.t + 10, 'text-anchor': 'end' },
          'since last session →',
        )
      : h('text', { class: 'tick window-label', x: startX + 3, y: PAD.t + 10 }, 'since last session'));
  return h(
    'svg',
    { class: 'chart tchart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label },
    start != null &&
      h('rect', {
        class: 'window',
        x: startX,
        y: PAD.t,
        width: Math.max(0, right - startX),
        height: H - PAD.t - PAD.b,
      }),
    h('line', { class: 'axis', x1: PAD.l, y1: H - PAD.b, x2: right, y2: H - PAD.b }),
    h('line', { class: 'axis', x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: H - PAD.b }),
    [0, spec.max].map((v) =>
      h('text', { class: 'tick', x: PAD.l - 5, y: y(v) + 3.5, 'text-anchor': 'end' }, String(v)),
    ),
    bandShapes,
    startLabel,
    shown.map((m) => [
      h('line', {
        class: `marker marker-${m.kind}${m.t > now ? ' upcoming' : ''}`,
        x1: x(m.t),
        x2: x(m.t),
        y1: PAD.t,
        y2: H - PAD.b,
      }),
      m.t > now
        ? h('text', { class: 'marker-label upcoming', x: x(m.t), y: PAD.t - 5, 'text-anchor': 'middle' }, 'next')
        : m.kind === 'dosing' && h('text', { class: 'marker-label', x: x(m.t) + 2, y: PAD.t - 5 }, 'D'),
    ]),
    h('text', { class: 'tick', x: PAD.l, y: H - 8 }, fmtDate(new Date(t0).toISOString())),
    h('text', { class: 'tick', x: right, y: H - 8, 'text-anchor': 'end' }, fmtDate(new Date(t1).toISOString())),
    points.length > 1 &&
      h('polyline', {
        class: 'line',
        points: points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' '),
      }),
    points.map((p) => h('circle', { class: 'dot', cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 3 })),
    risks.map((p) => [
      h('circle', { class: 'risk-mark', cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 7 }),
      h(
        'text',
        { class: 'risk-label', x: x(p.t).toFixed(1), y: (y(p.v) - 10).toFixed(1), 'text-anchor': 'middle' },
        'risk',
      ),
    ]),
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
    moved &&
      h(
        'span',
        { class: `delta ${moved.tone}` },
        `${moved.arrow} ${moved.words} from ` +
          `baseline${trend.percent_change != null && instrument !== 'daily' ? `, ${trend.percent_change}%` : ''}`,
      ),
    labels,
  );
}
