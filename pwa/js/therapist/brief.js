// The brief: what happened since the last session, as far as the patient shared it.
// Open flags, "bring to session" items, scores with session markers, shared entries to
// read (opening one records the receipt the patient sees), shared daily notes, plan and
// parts-map changes, reminder follow-through; ending the care link. Also the printable
// briefs: one patient per page, each page headed with name, date and "Confidential".

import { DAY_MS, PART_RELATIONS, PART_ROLES } from '../constants.js';
import { navigate } from '../nav.js';
import { session } from '../session.js';
import { confirmSheet, fmtDate, fmtDateTime, h, mount, pageTitle, swap, toast } from '../ui.js';
import {
  KINDS,
  SERIES,
  bdi,
  del,
  errorLine,
  fmtWhen,
  get,
  names,
  patientNav,
  post,
  problem,
  scoreChart,
  scoreFacts,
} from './common.js';
import { followThroughSection, plansSection } from './assignments.js';
import { flagCard } from './flags.js';

const HISTORY_DAYS = 180;
const PROMPTS = {
  daily: 'Daily check-in',
  phq9: 'PHQ-9',
  gad7: 'GAD-7',
  post_dosing: 'After dosing',
  plan_review: 'Plan review',
};

const section = (id, title, ...children) =>
  h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
// a section with nothing to say: on screen it says so; on paper it leaves the space
const quiet = (el) => {
  el.classList.add('empty');
  return el;
};

// -- data

async function load(pid, since = null) {
  const from = encodeURIComponent(new Date(Date.now() - HISTORY_DAYS * DAY_MS).toISOString());
  const brief = await get(`/patients/${pid}/brief${since ? `?since=${encodeURIComponent(since)}` : ''}`);
  const [trends, map] = await Promise.all([
    Promise.all(Object.keys(SERIES).map((i) => get(`/patients/${pid}/checkins/trends?instrument=${i}&from=${from}`))),
    brief.parts.shared ? get(`/patients/${pid}/parts/map`).catch(() => null) : null,
  ]);
  return { brief, trends: Object.fromEntries(Object.keys(SERIES).map((k, n) => [k, trends[n]])), map };
}

// -- pieces

function entryCard(pid, e, { interactive, onRead }) {
  const bodyId = `entry-body-${e.id}`;
  const body = h('div', { class: 'entry-body', id: bodyId, hidden: !e.read_by_therapist_at }, e.body);
  const status = h(
    'span',
    { class: 'read-state' },
    e.read_by_therapist_at ? `Read ${fmtDateTime(e.read_by_therapist_at)}` : 'Unread',
  );
  const card = h(
    'article',
    {
      class: `card entry${e.read_by_therapist_at ? '' : ' unread'}`,
      id: `entry-${e.id}`,
      'data-entry-id': e.id,
      tabindex: '-1',
    },
    h('h3', { class: 'user-text' }, e.title || 'Untitled entry'),
    h(
      'p',
      { class: 'meta' },
      h('span', {}, fmtDateTime(e.written_at)),
      e.mood != null && h('span', {}, `Mood ${e.mood}/10`),
      e.emotions?.length > 0 && h('span', {}, e.emotions.join(', ')),
      e.for_session && h('span', { class: 'badge warn' }, 'Bring to session'),
      status,
    ),
    body,
  );
  if (!e.read_by_therapist_at && interactive) {
    const button = h(
      'button',
      { type: 'button', 'aria-expanded': 'false', 'aria-controls': bodyId },
      `Read “${e.title || 'Untitled entry'}”`,
    );
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const answer = await post(`/patients/${pid}/journal/entries/${e.id}/read`);
        body.hidden = false;
        status.textContent = `Read ${fmtDateTime(answer.read_by_therapist_at)}`;
        card.classList.remove('unread');
        button.remove();
        body.setAttribute('tabindex', '-1');
        body.focus();
        onRead();
      } catch (err) {
        button.disabled = false;
        toast(problem(err));
      }
    });
    card.append(h('div', { class: 'actions no-print' }, button));
  }
  return card;
}

// "PHQ-9 14, up 8 since last session (worse)": the direction in words, from the
// server's `direction` (a higher PHQ-9 or GAD-7 is worse, a higher mood better).
export function scoreCardWords(card) {
  const spec = SERIES[card.instrument];
  const label = spec?.label || card.instrument;
  if (card.latest == null) return `${label}: no answer since the last session`;
  const latest = card.instrument === 'daily' ? `${label} ${card.latest}/10` : `${label} ${card.latest}`;
  const previous = card.previous ?? card.previous_window_latest ?? null;
  const delta = card.change ?? card.change_from_previous_window ?? (previous != null ? card.latest - previous : null);
  if (delta == null) return `${latest}, nothing earlier to compare`;
  if (delta === 0) return `${latest}, same as last session`;
  const worse = spec ? (spec.higherIsWorse ? delta > 0 : delta < 0) : null;
  const direction = card.direction || (worse == null ? null : worse ? 'worse' : 'better');
  return (
    `${latest}, ${delta > 0 ? 'up' : 'down'} ${Math.abs(delta)} since last ` +
    `session${direction && direction !== 'same' ? ` (${direction})` : ''}`
  );
}

function scoreCards(scores) {
  const order = ['phq9', 'gad7', 'daily'];
  const cards = order.map((k) => (scores || []).find((c) => c.instrument === k)).filter(Boolean);
  if (!cards.length) return null;
  return h(
    'ul',
    { class: 'score-cards' },
    cards.map((c) => {
      const words = scoreCardWords(c);
      const direction =
        c.direction || (/\(worse\)/.test(words) ? 'worse' : /\(better\)/.test(words) ? 'better' : 'same');
      return h(
        'li',
        { class: `score-card ${direction}`, 'data-instrument': c.instrument },
        h('span', { class: 'words' }, words),
        c.severity && h('span', { class: 'muted' }, ` · ${c.severity}`),
      );
    }),
  );
}

function scoresSection(brief, trends) {
  const risky = new Set(brief.flags.map((f) => String(f.checkin_id)));
  const extra = { sessions: brief.sessions || [], risky };
  return section(
    'scores-title',
    'Scores',
    scoreCards(brief.scores),
    h(
      'div',
      { class: 'charts' },
      Object.entries(SERIES).map(([key, spec]) =>
        h(
          'figure',
          { class: 'score', 'data-instrument': key },
          h('figcaption', {}, h('h3', {}, spec.label)),
          scoreChart(key, trends[key], brief.since, extra),
          scoreFacts(key, trends[key]),
        ),
      ),
    ),
    h(
      'p',
      { class: 'muted small chart-key' },
      'Dashed lines (D) mark dosing sessions, dotted lines other sessions, “next” an upcoming one; the ' +
        'shaded part is the time since the last session; a ringed point marked “risk” raised a flag. ' +
        'Severity bands are named on the right. PHQ-9 response: 50 % or more below baseline; remission: ' +
        'below 5. For daily mood, higher is better.',
    ),
  );
}

function dailyNotesSection(notes) {
  if (!notes) return null;
  const el = section(
    'daily-notes-title',
    `Shared daily check-in notes (${notes.length})`,
    notes.length
      ? h(
          'ul',
          { class: 'plain daily-notes' },
          notes.map((n) =>
            h(
              'li',
              {},
              h('span', { class: 'muted' }, `${fmtWhen(n.answered_at)}: `),
              h('span', { class: 'user-text' }, n.note),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No shared notes in this window.'),
  );
  return notes.length ? el : quiet(el);
}

function planSection(pid, plan) {
  if (!plan.shared) {
    return section(
      'plan-title',
      'Plan',
      h('p', { class: 'muted' }, 'The patient keeps their plan private.'),
      plan.maintenance_suggested && h('p', { class: 'badge warn' }, 'A maintenance session may be due'),
    );
  }
  return section(
    'plan-title',
    'Plan changes',
    h(
      'p',
      { class: 'meta' },
      plan.review_due && h('span', { class: 'badge warn' }, 'Review due'),
      plan.maintenance_suggested && h('span', { class: 'badge warn' }, 'Maintenance session suggested'),
    ),
    plan.maintenance_criteria_met?.length > 0 &&
      h(
        'ul',
        {},
        plan.maintenance_criteria_met.map((c) => h('li', {}, `Met: ${c.text || c}`)),
      ),
    plan.revisions.length
      ? h(
          'ol',
          { class: 'revisions' },
          plan.revisions.map((r) =>
            h(
              'li',
              {},
              h('strong', {}, `Revision ${r.number}`),
              ` · ${fmtDateTime(r.created_at)} · ` +
                `${r.author_role === 'therapist' ? `by ${r.author_name} (therapist)` : 'by the patient'}`,
              r.conflict && h('span', { class: 'badge warn' }, 'Conflict copy'),
              h('p', { class: 'change-summary' }, r.summary),
              r.diff && diffList(r.diff),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No changes since the last session.'),
    h('p', { class: 'no-print' }, h('a', { href: `#/patient/${pid}/plan` }, 'Open the plan')),
  );
}

const itemText = (i) => i.text || [i.name, i.relation, i.phone].filter(Boolean).join(', ');

// sections → {added, removed, reordered}, the shape the server's plan diff uses
export function diffList(diff, titles = {}) {
  const entries = Object.entries(diff.sections || {});
  if (!entries.length) return h('p', { class: 'muted' }, 'No changes.');
  return h(
    'dl',
    { class: 'diff' },
    entries.map(([key, d]) => [
      h('dt', {}, titles[key] || key.replace(/_/g, ' ')),
      d.added.map((i) =>
        h('dd', { class: 'added' }, h('span', { class: 'visually-hidden' }, 'Added: '), h('ins', {}, itemText(i))),
      ),
      d.removed.map((i) =>
        h('dd', { class: 'removed' }, h('span', { class: 'visually-hidden' }, 'Removed: '), h('del', {}, itemText(i))),
      ),
      d.reordered && h('dd', { class: 'muted' }, 'Reordered'),
    ]),
  );
}

// The shared parts map, read-only: an SVG picture and the same as a list.
function partsMap(map) {
  const parts = map.parts.filter((p) => !p.deleted);
  if (!parts.length) return h('p', { class: 'muted' }, 'The shared map has no parts yet.');
  const byId = new Map(parts.map((p) => [p.id, p]));
  const xs = parts.map((p) => p.x);
  const ys = parts.map((p) => p.y);
  const m = 70;
  const box = [
    Math.min(...xs) - m,
    Math.min(...ys) - m,
    Math.max(...xs) - Math.min(...xs) + 2 * m,
    Math.max(...ys) - Math.min(...ys) + 2 * m,
  ];
  const relations = map.relations.filter((r) => !r.deleted && byId.has(r.source_id) && byId.has(r.target_id));
  const picture = h(
    'svg',
    {
      class: 'map readonly',
      viewBox: box.join(' '),
      role: 'img',
      'aria-label': `Parts map: ${parts.length} parts, ${relations.length} relations (listed below).`,
    },
    relations.map((r) => {
      const a = byId.get(r.source_id);
      const b = byId.get(r.target_id);
      return h('line', { class: `rel rel-${r.kind}`, x1: a.x, y1: a.y, x2: b.x, y2: b.y });
    }),
    parts.map((p) =>
      h(
        'g',
        { class: `part role-${p.role || 'unknown'}`, transform: `translate(${p.x} ${p.y})` },
        h('circle', { r: 28 }),
        h('text', { y: 46 }, p.name),
      ),
    ),
  );
  return h(
    'div',
    { class: 'map-read' },
    picture,
    h(
      'ul',
      { class: 'parts-list' },
      parts.map((p) =>
        h(
          'li',
          {},
          h('span', { class: `swatch role-${p.role || 'unknown'}`, 'aria-hidden': 'true' }),
          ` ${p.name} (${PART_ROLES[p.role] || PART_ROLES.unknown})`,
        ),
      ),
      relations.map((r) =>
        h('li', {}, `${byId.get(r.source_id).name} ${PART_RELATIONS[r.kind] || r.kind} ${byId.get(r.target_id).name}`),
      ),
    ),
  );
}

function partsSection(parts, map) {
  if (!parts.shared)
    return section(
      'parts-title',
      'Parts map',
      h('p', { class: 'muted' }, 'The patient keeps their parts map private.'),
    );
  return section(
    'parts-title',
    'Parts map',
    parts.changes.length
      ? h(
          'ul',
          { class: 'changes' },
          parts.changes.map((c) => h('li', {}, h('span', { class: 'muted' }, `${fmtDate(c.at)}: `), c.text)),
        )
      : h('p', { class: 'muted' }, 'No changes to the map since the last session.'),
    map ? partsMap(map) : h('p', { class: 'muted' }, 'The map could not be loaded.'),
  );
}

function remindersSection(r) {
  if (!r) return null;
  const rows = r.by_kind || [];
  return section(
    'reminders-title',
    'Reminder follow-through',
    h(
      'p',
      {},
      `${r.devices} device${r.devices === 1 ? '' : 's'} with notifications. ${r.prompts.sent} prompts sent, ` +
        `${r.prompts.opened} opened, ${r.prompts.answered} answered.`,
    ),
    rows.length > 0 &&
      h(
        'table',
        {},
        h('caption', { class: 'visually-hidden' }, 'Reminders by kind'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Reminder', 'Sent', 'Shown', 'Opened', 'Answered', 'Skipped'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        h(
          'tbody',
          {},
          rows.map((k) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, PROMPTS[k.kind] || k.kind),
              [k.sent, k.shown, k.opened, k.answered ?? '—', k.skipped].map((v) =>
                h('td', { class: 'num' }, String(v)),
              ),
            ),
          ),
        ),
      ),
  );
}

function sessionsSection(pid, sessions) {
  return section(
    'sessions-title',
    'Sessions',
    sessions.length
      ? h(
          'ul',
          { class: 'plain' },
          sessions.map((s) =>
            h(
              'li',
              {},
              `${KINDS[s.kind] || s.kind}: ` +
                `${fmtDateTime(s.starts_at)}${new Date(s.starts_at) > new Date() ? ' (upcoming)' : ''}`,
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No sessions in this window.'),
    h('p', { class: 'no-print' }, h('a', { href: `#/patient/${pid}/sessions` }, 'Schedule or change sessions')),
  );
}

// -- the whole brief

function notOnTrack(brief) {
  const track = brief.not_on_track;
  if (!track) return null;
  return h(
    'p',
    { class: 'banner attention not-on-track', id: 'not-on-track' },
    h('span', { class: 'badge warn' }, 'Not on track'),
    ' ',
    (track.reasons || []).join('; '),
  );
}

// name, date printed and "Confidential": a table header group on paper, so Chromium
// repeats it at the top of every page the patient's brief runs to
function printHead(name) {
  return h(
    'div',
    { class: 'print-head print-only', 'aria-hidden': 'true' },
    h(
      'div',
      { class: 'print-head-row' },
      h('strong', { class: 'print-name' }, 'Brief: ', bdi(name)),
      h('span', {}, `Printed ${fmtWhen(new Date().toISOString())}`),
      h('strong', { class: 'confidential' }, 'Confidential'),
    ),
  );
}

function briefView(pid, { brief, trends, map }, { interactive }) {
  const entries = [...brief.entries].sort((a, b) => Number(b.for_session) - Number(a.for_session));
  const unread = h('span', { id: 'unread-count' });
  let left = entries.filter((e) => !e.read_by_therapist_at).length;
  const showUnread = () => {
    unread.textContent = left ? ` · ${left} unread` : ' · all read';
  };
  showUnread();
  const onRead = () => {
    left -= 1;
    showUnread();
  };
  const openFlags = brief.flags.filter((f) => f.status === 'open');
  const otherFlags = brief.flags.filter((f) => f.status !== 'open');
  const jump = (id) => {
    const target = document.getElementById(`entry-${id}`);
    target?.scrollIntoView({ block: 'start' });
    target?.focus({ preventScroll: true });
  };
  return [
    brief.summary && h('p', { class: 'summary', id: 'brief-summary' }, brief.summary),
    notOnTrack(brief),
    h(
      'p',
      { class: 'window' },
      `Since ${fmtDateTime(brief.since)} (the end of the last integration session, or two weeks) until ` +
        `${fmtDateTime(brief.until)}.`,
    ),
    (openFlags.length > 0 || otherFlags.length > 0) &&
      section(
        'flags-title',
        openFlags.length ? `Open flags (${openFlags.length})` : 'Flags',
        brief.flags.map((f) =>
          flagCard({ ...f, patient_id: f.patient_id || pid }, { withPatient: false, interactive }),
        ),
      ),
    (brief.bring_to_session.length ? (el) => el : quiet)(
      section(
        'bring-title',
        'Bring to session',
        brief.bring_to_session.length
          ? h(
              'ul',
              { class: 'plain' },
              brief.bring_to_session.map((b) =>
                h(
                  'li',
                  { class: 'user-text' },
                  interactive
                    ? h(
                        'button',
                        { type: 'button', class: 'link', onclick: () => jump(b.id) },
                        b.title || 'Untitled entry',
                      )
                    : h('strong', {}, b.title || 'Untitled entry'),
                  ` · ${fmtDate(b.written_at)}`,
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'Nothing marked for the session.'),
      ),
    ),
    scoresSection(brief, trends),
    dailyNotesSection(brief.daily_notes),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'entries-title' },
      h('h2', { id: 'entries-title' }, `Shared entries (${entries.length})`, unread),
      entries.length
        ? entries.map((e) => entryCard(pid, e, { interactive, onRead }))
        : h('p', { class: 'muted' }, 'No shared entries in this window.'),
    ),
    planSection(pid, brief.plan),
    partsSection(brief.parts, map),
    followThroughSection(brief.follow_through),
    remindersSection(brief.reminders),
    sessionsSection(pid, brief.sessions),
    // set and change them here, on screen; paper shows the follow-through above
    interactive && plansSection(pid),
  ];
}

// The care link's id: the caseload row may carry it; GET /care-team always does.
async function linkIdOf(pid) {
  const rows = await get('/caseload?sort=name');
  const row = rows.find((r) => r.patient_id === pid);
  if (row?.link_id) return row.link_id;
  const links = await get('/care-team');
  return links.find((l) => l.patient?.id === pid)?.id || null;
}

function endLinkButton(pid, name) {
  const button = h('button', { type: 'button', class: 'danger no-print', id: 'end-link' }, 'End care link');
  button.addEventListener('click', async () => {
    const me = session.user?.display_name || 'You';
    const ok = await confirmSheet(
      `End the care link with ${name}?`,
      `${me} will no longer see anything ${name} shares, and ${name} leaves your caseload. ${name} can join ` +
        `again with a new code.`,
      'End care link',
      { danger: true },
    );
    if (!ok) return;
    button.disabled = true;
    try {
      const id = await linkIdOf(pid);
      if (!id) throw Object.assign(new Error('This care link has already ended.'), { status: 404 });
      await del(`/care-team/${id}`);
      names.delete(pid);
      toast(`Care link with ${name} ended`);
      navigate('caseload');
    } catch (err) {
      button.disabled = false;
      toast(problem(err));
    }
  });
  return button;
}

export async function render(root, [pid]) {
  const since = new URLSearchParams(location.hash.split('?')[1] || '').get('since');
  const title = pageTitle('Brief');
  mount(
    root,
    h('div', { class: 'page-head' }, title),
    h('p', { role: 'status', class: 'muted', id: 'brief-loading' }, 'Loading the brief…'),
  );
  let data;
  try {
    data = await load(pid, since);
  } catch (err) {
    swap(root, pageTitle('Brief'), errorLine(err), h('p', {}, h('a', { href: '#/caseload' }, 'Back to the caseload')));
    return null;
  }
  const name = data.brief.patient.display_name;
  names.set(pid, name);
  swap(title, 'Brief: ', bdi(name));
  document.title = `Brief: ${name} · Between`;
  swap(
    root,
    h(
      'div',
      { class: 'page-head' },
      title,
      h(
        'div',
        { class: 'actions no-print' },
        h('button', { type: 'button', onclick: () => window.print() }, 'Print brief'),
        endLinkButton(pid, name),
      ),
    ),
    patientNav(pid, 'brief', name),
    since &&
      h(
        'p',
        { class: 'notice small no-print' },
        `Showing the brief from ${fmtDateTime(data.brief.since)}. `,
        h('a', { href: `#/patient/${pid}` }, 'Back to since the last session'),
      ),
    h(
      'div',
      { class: 'brief brief-page single' },
      printHead(name),
      h('div', { class: 'print-body' }, briefView(pid, data, { interactive: true })),
    ),
  );
  return null;
}

// Every patient's brief, one per printed page, each page headed with the name, the
// date printed and "Confidential". Shared entries print in full: the therapist chose
// to print what the patient shared; no read receipt is sent, since nothing was opened.
export async function renderPrint(root) {
  const status = h('p', { role: 'status', class: 'muted no-print', id: 'print-status' }, 'Loading every brief…');
  mount(
    root,
    h(
      'div',
      { class: 'page-head no-print' },
      pageTitle('Print all briefs'),
      h('button', { type: 'button', onclick: () => window.print() }, 'Print'),
    ),
    status,
  );
  try {
    const rows = await get('/caseload?sort=name');
    for (const row of rows) {
      const data = await load(row.patient_id);
      const name = data.brief.patient.display_name;
      const page = h(
        'div',
        { class: 'brief brief-page' },
        printHead(name),
        h(
          'div',
          { class: 'print-body' },
          h('h2', { class: 'print-title' }, 'Brief: ', bdi(name)),
          briefView(row.patient_id, data, { interactive: false }),
        ),
      );
      // one page per patient: keep every id unique on the sheet
      for (const el of page.querySelectorAll('[id]')) el.id = `p${row.patient_id}-${el.id}`;
      for (const el of page.querySelectorAll('[aria-labelledby]'))
        el.setAttribute('aria-labelledby', `p${row.patient_id}-${el.getAttribute('aria-labelledby')}`);
      mount(root, page);
    }
    status.textContent = `${rows.length} briefs ready to print, one patient per page.`;
  } catch (err) {
    status.replaceWith(errorLine(err));
  }
  return null;
}
