// Today: the next check-in, what the therapist set (assignments.js), days since the last
// dosing session with a fitting prompt, the next session, recent entries, and a gentle
// streak (never a guilty one).

import { DAY_MS } from '../constants.js';
import { STORES, getAll, getMeta } from '../db.js';
import { session } from '../session.js';
import { syncEvents } from '../sync.js';
import { dayKey, fmtDateTime, h, pageTitle, swap } from '../ui.js';
import { todaySection } from './assignments.js';
import { SESSION_WORDS, entryItem, loadEntries } from './journal.js';

// which after-dosing prompt fits how many days it has been
const PROMPT_BY_DAY = [
  [1, 'after-dosing.what-stayed'],
  [2, 'after-dosing.body'],
  [4, 'after-dosing.insight'],
  [6, 'after-dosing.difficult'],
  [13, 'after-dosing.small-step'],
  [Infinity, 'relapse.what-helped'],
];

export function daysSince(iso, now = Date.now()) {
  return Math.floor((now - new Date(iso).getTime()) / DAY_MS);
}

function nextCheckins(checkins) {
  const now = Date.now();
  const last = (instrument) =>
    checkins
      .filter((c) => c.instrument === instrument && !c.deleted)
      .sort((a, b) => b.answered_at.localeCompare(a.answered_at))[0];
  const items = [];
  const daily = last('daily');
  if (!daily || dayKey(daily.answered_at) !== dayKey(new Date().toISOString())) {
    items.push({ href: '#/checkin/daily', label: 'Daily check-in', note: 'About a minute.' });
  }
  for (const [id, label] of [
    ['phq9', 'PHQ-9 (mood)'],
    ['gad7', 'GAD-7 (anxiety)'],
  ]) {
    const prev = last(id);
    if (!prev || now - new Date(prev.answered_at).getTime() >= 7 * DAY_MS) {
      items.push({
        href: `#/checkin/${id}`,
        label,
        note: prev ? `Last answered ${daysSince(prev.answered_at)} days ago.` : 'Not answered yet.',
      });
    }
  }
  return items;
}

function streak(entries) {
  const written = new Set(entries.map((e) => dayKey(e.written_at)));
  const days = [...Array(7)].map((_, i) => {
    const d = new Date(Date.now() - (6 - i) * DAY_MS);
    return {
      label: d.toLocaleDateString(undefined, { weekday: 'short' }),
      wrote: written.has(dayKey(d.toISOString())),
    };
  });
  const n = days.filter((d) => d.wrote).length;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'streak-title' },
    h('h2', { id: 'streak-title' }, 'This week'),
    h(
      'p',
      {},
      n === 0
        ? 'Whenever you are ready, a few words are enough.'
        : `You wrote on ${n} of the last 7 days. ` +
            `${n >= 4 ? 'That is a lot of care for yourself.' : 'Every entry counts.'}`,
    ),
    h(
      'ul',
      { class: 'chips', 'aria-label': 'The last 7 days' },
      days.map((d) =>
        h(
          'li',
          { class: `chip${d.wrote ? ' on' : ''}` },
          d.label,
          d.wrote && h('span', { class: 'visually-hidden' }, ': wrote'),
          d.wrote && h('span', { 'aria-hidden': 'true' }, ' ✓'),
        ),
      ),
    ),
  );
}

async function draw(root) {
  const [entries, checkins, sessions, prompts, assigned] = await Promise.all([
    loadEntries(),
    getAll(STORES.checkin),
    getAll(STORES.treatment_session),
    getMeta('prompts', []),
    todaySection(), // what the therapist set: homework, and plans' asks due or missed
  ]);
  const now = new Date().toISOString();
  const live = sessions.filter((s) => !s.deleted);
  const lastDosing = live
    .filter((s) => s.kind === 'dosing' && s.starts_at <= now)
    .sort((a, b) => b.starts_at.localeCompare(a.starts_at))[0];
  const next = live.filter((s) => s.starts_at > now).sort((a, b) => a.starts_at.localeCompare(b.starts_at))[0];
  const due = nextCheckins(checkins);
  const bring = entries.filter((e) => e.for_session);
  const name = session.user?.display_name;

  const dosing = [];
  if (lastDosing) {
    const days = daysSince(lastDosing.starts_at);
    const promptId = PROMPT_BY_DAY.find(([max]) => days <= max)[1];
    const prompt = prompts.find((p) => p.id === promptId);
    dosing.push(
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'dosing-title' },
        h(
          'h2',
          { id: 'dosing-title' },
          days === 0
            ? 'Your dosing session was today'
            : `${days} ${days === 1 ? 'day' : 'days'} since your dosing session`,
        ),
        prompt && h('p', {}, prompt.text),
        // an integration entry about this session, not a loose answer to a prompt
        h('a', { class: 'button primary', href: `#/journal/new/${promptId}/${lastDosing.id}` }, 'Write about it'),
      ),
    );
  }
  const heading = pageTitle(name ? `Hello, ${name}` : 'Today');
  if (name) swap(heading, 'Hello, ', h('bdi', {}, name));
  swap(
    root,
    heading,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'checkin-title' },
      h('h2', { id: 'checkin-title' }, 'Next check-in'),
      due.length
        ? h(
            'ul',
            { class: 'list' },
            due.map((c) =>
              h(
                'li',
                {},
                h('a', { class: 'button', href: c.href }, c.label),
                h('span', { class: 'muted small' }, ` ${c.note}`),
              ),
            ),
          )
        : h('p', {}, 'You are up to date. ', h('a', { href: '#/trends' }, 'See how things are going')),
    ),
    assigned,
    ...dosing,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'next-session-title' },
      h('h2', { id: 'next-session-title' }, 'Next session'),
      next
        ? h(
            'p',
            {},
            h('strong', {}, SESSION_WORDS[next.kind] || 'Session'),
            ` · ${fmtDateTime(next.starts_at)}`,
            next.title && [' · ', h('bdi', {}, next.title)],
          )
        : h('p', { class: 'muted' }, 'No session scheduled yet. Your therapist adds sessions here.'),
      bring.length > 0 &&
        h(
          'p',
          {},
          h('a', { href: '#/journal' }, bring.length === 1 ? '1 entry to bring' : `${bring.length} entries to bring`),
        ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'recent-title' },
      h('h2', { id: 'recent-title' }, 'Recent entries'),
      entries.length
        ? h('ul', { class: 'list' }, entries.slice(0, 3).map(entryItem))
        : h('p', { class: 'muted' }, 'Nothing written yet.'),
      h(
        'div',
        { class: 'actions' },
        h('a', { class: 'button primary', href: '#/journal/new' }, 'New entry'),
        h('a', { class: 'button', href: '#/journal' }, 'All entries'),
      ),
    ),
    streak(entries),
  );
}

export async function render(root) {
  await draw(root);
  const redraw = () => draw(root);
  syncEvents.addEventListener('change', redraw);
  return () => syncEvents.removeEventListener('change', redraw);
}
