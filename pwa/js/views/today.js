// Today: the next check-in, what the therapist set (assignments.js), days since the last
// dosing session with a fitting prompt, the next session, recent entries, and a gentle
// streak (never a guilty one).

import { DAY_MS } from '../constants.js';
import { STORES, getAll } from '../db.js';
import { t, tNodes } from '../i18n.js';
import { session } from '../session.js';
import { inMyLanguage, syncEvents } from '../sync.js';
import { dayKey, fmtDateTime, fmtWeekday, h, pageTitle, swap } from '../ui.js';
import { todaySection } from './assignments.js';
import { entryItem, loadEntries, sessionWords } from './journal.js';

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
    items.push({ href: '#/checkin/daily', label: t('today.daily'), note: t('today.daily_note') });
  }
  for (const [id, label] of [
    ['phq9', t('today.phq9')],
    ['gad7', t('today.gad7')],
  ]) {
    const prev = last(id);
    if (!prev || now - new Date(prev.answered_at).getTime() >= 7 * DAY_MS) {
      items.push({
        href: `#/checkin/${id}`,
        label,
        note: prev ? t('today.last_answered', { count: daysSince(prev.answered_at) }) : t('today.not_answered'),
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
      label: fmtWeekday(d),
      wrote: written.has(dayKey(d.toISOString())),
    };
  });
  const n = days.filter((d) => d.wrote).length;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'streak-title' },
    h('h2', { id: 'streak-title' }, t('today.week')),
    h(
      'p',
      {},
      n === 0
        ? t('today.week_none')
        : `${t('today.week_wrote', { count: n })} ${n >= 4 ? t('today.week_lot') : t('today.week_counts')}`,
    ),
    h(
      'ul',
      { class: 'chips', 'aria-label': t('today.last_7_days') },
      days.map((d) =>
        h(
          'li',
          { class: `chip${d.wrote ? ' on' : ''}` },
          d.label,
          d.wrote && h('span', { class: 'visually-hidden' }, t('today.wrote')),
          d.wrote && h('span', { 'aria-hidden': 'true' }, ' ✓'),
        ),
      ),
    ),
  );
}

async function draw(root) {
  const [entries, checkins, sessions, prompts] = await Promise.all([
    loadEntries(),
    getAll(STORES.checkin),
    getAll(STORES.treatment_session),
    inMyLanguage('prompts'),
  ]);
  // what the therapist set: homework, and plans' asks due or missed
  const assigned = await todaySection(checkins, entries);
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
        h('h2', { id: 'dosing-title' }, days === 0 ? t('today.dosing_today') : t('today.dosing_days', { count: days })),
        prompt && h('p', {}, prompt.text),
        // an integration entry about this session, not a loose answer to a prompt
        h(
          'a',
          { class: 'button primary', href: `#/journal/new/${promptId}/${lastDosing.id}` },
          t('today.write_about_it'),
        ),
      ),
    );
  }
  const heading = pageTitle(name ? t('today.hello', { name }) : t('today.title'));
  if (name) swap(heading, ...tNodes('today.hello', { name: h('bdi', {}, name) }));
  swap(
    root,
    heading,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'checkin-title' },
      h('h2', { id: 'checkin-title' }, t('today.next_checkin')),
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
        : h('p', {}, t('today.up_to_date'), ' ', h('a', { href: '#/trends' }, t('today.see_trends'))),
    ),
    assigned,
    ...dosing,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'next-session-title' },
      h('h2', { id: 'next-session-title' }, t('today.next_session')),
      next
        ? h(
            'p',
            {},
            h('strong', {}, sessionWords(next.kind)),
            ` · ${fmtDateTime(next.starts_at)}`,
            next.title && [' · ', h('bdi', {}, next.title)],
          )
        : h('p', { class: 'muted' }, t('today.no_session')),
      bring.length > 0 && h('p', {}, h('a', { href: '#/journal' }, t('today.to_bring', { count: bring.length }))),
    ),
    h(
      'section',
      { 'aria-labelledby': 'recent-title' },
      h('h2', { id: 'recent-title' }, t('today.recent')),
      entries.length
        ? h('ul', { class: 'list' }, entries.slice(0, 3).map(entryItem))
        : h('p', { class: 'muted' }, t('today.nothing_yet')),
      h(
        'div',
        { class: 'actions' },
        h('a', { class: 'button primary', href: '#/journal/new' }, t('journal.new_entry')),
        h('a', { class: 'button', href: '#/journal' }, t('today.all_entries')),
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
