// What the therapist set, on the patient's side: homework on Today (when it is due, its
// state, who set it; write, mark done, skip, snooze), the state of each measurement plan's
// latest ask ("due until …" or "missed"), and the plans in Reminders with their pause
// switch. All of it is read from this device's copy (the synced type "assignment") and
// changed through the outbox, so it works offline; the server has it on the next sync.

import { DAY_MS } from '../constants.js';
import { STORES, getAll } from '../db.js';
import { locale, t } from '../i18n.js';
import { saveItem } from '../outbox.js';
import { fmtDate, fmtDateTime, h, localIso, sheet, swap, toast } from '../ui.js';

const TYPE = 'assignment';
// a journal entry written for homework has this prompt id, then the homework's id
const PROMPT_PREFIX = 'assignment:';
// done or skipped homework stays on Today this long, then leaves it (never a pile)
const RECENT_MS = 7 * DAY_MS;
// "tomorrow morning" and "in 3 days" are at this local hour
const SNOOZE_HOUR = 9;

const homeworkPromptId = (id) => `${PROMPT_PREFIX}${id}`;
export const homeworkIdOf = (promptId) =>
  typeof promptId === 'string' && promptId.startsWith(PROMPT_PREFIX) ? promptId.slice(PROMPT_PREFIX.length) : null;

const at = (iso) => (iso ? Date.parse(iso) : NaN);
const live = (rows) => rows.filter((a) => !a.deleted);

// The status shown, as server/assignments/read.py `status_now` says it: skipped; done
// when done by the due time; late when done after it, or still open past it; else open.
function statusNow(a, now = Date.now()) {
  if (a.status === 'skipped') return 'skipped';
  const due = at(a.due_at);
  if (a.status === 'done') return due < at(a.done_at) ? 'late' : 'done';
  return due < now ? 'late' : 'open';
}

const isClosed = (a) => a.status === 'done' || a.status === 'skipped';

// -- words (a function each: the catalogue is read when the words are shown)
const STATUS_WORDS = {
  open: () => t('assign.status.open'),
  late: () => t('assign.status.late'),
  done: () => t('assign.status.done'),
  done_late: () => t('assign.status.done_late'),
  skipped: () => t('assign.status.skipped'),
};
const HOMEWORK_WORDS = {
  prompt: () => t('assign.type.prompt'),
  plan_review: () => t('assign.type.plan_review'),
  parts_exercise: () => t('assign.type.parts_exercise'),
};
const INSTRUMENT_WORDS = {
  phq9: () => t('assign.instrument.phq9'),
  gad7: () => t('assign.instrument.gad7'),
  daily: () => t('assign.instrument.daily'),
};
const SESSION_WORDS = {
  dosing: () => t('assign.session.dosing'),
  integration: () => t('assign.session.integration'),
  preparation: () => t('assign.session.preparation'),
  maintenance: () => t('assign.session.maintenance'),
};
const wordsOf = (table, key) => (table[key] ? table[key]() : key);

export const setByWords = (a) =>
  a.set_by?.display_name ? t('assign.set_by', { name: a.set_by.display_name }) : t('assign.set_by_therapist');

function statusBadge(a, status) {
  const key = a.status === 'done' && status === 'late' ? 'done_late' : status;
  return h('span', { class: `assign-status assign-${status}`, 'data-status': status }, STATUS_WORDS[key]());
}

// -- changes: on this device at once, then to the server through the outbox

async function change(a, fields, words) {
  await saveItem(TYPE, { ...a, ...fields, updated_at: new Date().toISOString() }, fields);
  if (words) toast(words);
}

// The journal entry `entryId` answered homework `a` (journal.js, on Done).
export const markHomeworkDone = (a, entryId = null) =>
  change(a, { status: 'done', entry_id: entryId, done_at: localIso() }, t('assign.toast.done'));

// `days` from today, at the snooze hour, on this device's clock
function morningIn(days) {
  const d = new Date();
  d.setDate(d.getDate() + days);
  d.setHours(SNOOZE_HOUR, 0, 0, 0);
  return d;
}

async function snooze(a) {
  const choices = { tomorrow: morningIn(1), later: morningIn(3) };
  const answer = await sheet(t('assign.snooze.title'), h('p', {}, t('assign.snooze.about')), [
    { label: t('assign.snooze.tomorrow'), value: 'tomorrow', class: 'primary' },
    { label: t('assign.snooze.three_days'), value: 'later' },
    { label: t('assign.cancel'), value: null },
  ]);
  if (!choices[answer]) return false;
  const until = choices[answer];
  await change(a, { snoozed_until: localIso(until) }, t('assign.toast.snoozed', { when: fmtDateTime(until) }));
  return true;
}

async function skip(a) {
  const reason = h('textarea', { id: 'skip-reason', class: 'short', maxlength: 500, dir: 'auto' });
  const body = [
    h('p', {}, t('assign.skip.about')),
    h('label', { for: 'skip-reason' }, t('assign.skip.reason'), h('span', { class: 'hint' }, t('assign.optional'))),
    reason,
  ];
  const answer = await sheet(t('assign.skip.title'), body, [
    { label: t('assign.cancel'), value: null },
    { label: t('assign.skip.confirm'), value: 'skip', class: 'primary' },
  ]);
  if (answer !== 'skip') return false;
  await change(a, { status: 'skipped', skip_reason: reason.value.trim() }, t('assign.toast.skipped'));
  return true;
}

// -- Today

function dueWords(a) {
  return a.due_at ? t('assign.due', { when: fmtDateTime(a.due_at) }) : t('assign.no_due');
}

// What to do with open homework: write it (or go on writing), or open the plan.
function homeworkActions(a, entry, redraw) {
  const act = (fn) => async () => (await fn(a)) && redraw();
  const main =
    a.homework_type === 'plan_review'
      ? [
          h('a', { class: 'button primary', href: '#/plan' }, t('assign.open_plan')),
          h('button', { type: 'button', onclick: act(markHomeworkDone) }, t('assign.mark_done')),
        ]
      : entry
        ? h('a', { class: 'button primary', href: `#/journal/${entry.id}` }, t('assign.continue'))
        : h('a', { class: 'button primary', href: `#/journal/new/${homeworkPromptId(a.id)}` }, t('assign.write'));
  return h(
    'div',
    { class: 'actions' },
    main,
    h('button', { type: 'button', onclick: act(snooze) }, t('assign.snooze.button')),
    h('button', { type: 'button', onclick: act(skip) }, t('assign.skip.button')),
  );
}

function homeworkItem(a, entry, now, redraw) {
  const status = statusNow(a, now);
  const snoozed = !isClosed(a) && at(a.snoozed_until) > now;
  return h(
    'li',
    { class: `homework${snoozed ? ' snoozed' : ''}`, 'data-assignment-id': a.id },
    h(
      'p',
      { class: 'homework-head' },
      h('strong', {}, wordsOf(HOMEWORK_WORDS, a.homework_type)),
      statusBadge(a, status),
    ),
    a.text && h('p', { class: 'homework-text', dir: 'auto' }, a.text),
    h('p', { class: 'meta' }, h('span', {}, dueWords(a)), h('span', {}, setByWords(a))),
    snoozed && h('p', { class: 'muted small' }, t('assign.snoozed_until', { when: fmtDateTime(a.snoozed_until) })),
    a.status === 'skipped' &&
      a.skip_reason &&
      h('p', { class: 'muted small', dir: 'auto' }, t('assign.skipped_because', { reason: a.skip_reason })),
    !isClosed(a) && homeworkActions(a, entry, redraw),
  );
}

// Order on Today: what is due first (soonest first), then what is snoozed, then what
// was done or skipped lately.
function homeworkOrder(now) {
  const rank = (a) => (isClosed(a) ? 2 : at(a.snoozed_until) > now ? 1 : 0);
  const due = (a) => (Number.isNaN(at(a.due_at)) ? Infinity : at(a.due_at));
  return (a, b) => rank(a) - rank(b) || due(a) - due(b);
}

const onToday = (a, now) =>
  !isClosed(a) || now - (at(a.done_at) || at(a.updated_at) || at(a.created_at) || now) <= RECENT_MS;

// The latest ask of a measurement plan, unless it was answered (a complete check-in of
// its instrument since it was sent): open while its window runs, else missed. Only the
// latest ask is known here, so a plan is never shown missed more than once.
function askState(plan, checkins, now = Date.now()) {
  if (plan.kind !== 'measure' || plan.deleted || plan.paused_at || !plan.last_asked_at) return null;
  const asked = at(plan.last_asked_at);
  const answered = checkins.some(
    (c) => !c.deleted && c.instrument === plan.instrument && c.complete !== false && at(c.answered_at) >= asked,
  );
  if (answered) return null;
  return { plan, due: now <= at(plan.window_ends_at) };
}

// One line per instrument: two plans asking for the PHQ-9 are one PHQ-9 to answer.
function askLines(plans, checkins, now) {
  const byInstrument = new Map();
  for (const ask of plans.map((p) => askState(p, checkins, now)).filter(Boolean)) {
    const held = byInstrument.get(ask.plan.instrument);
    const newer = !held || at(ask.plan.last_asked_at) > at(held.plan.last_asked_at);
    if (!held || (ask.due && !held.due) || (ask.due === held.due && newer)) byInstrument.set(ask.plan.instrument, ask);
  }
  return [...byInstrument.values()].map(({ plan, due }) =>
    h(
      'li',
      { class: `measure-ask${due ? '' : ' missed'}`, 'data-assignment-id': plan.id },
      h(
        'p',
        { class: 'homework-head' },
        h('strong', {}, wordsOf(INSTRUMENT_WORDS, plan.instrument)),
        due
          ? h(
              'span',
              { class: 'assign-status assign-open' },
              t('assign.due_until', { when: fmtDateTime(plan.window_ends_at) }),
            )
          : h('span', { class: 'assign-status assign-missed' }, t('assign.missed')),
      ),
      h(
        'p',
        { class: 'meta' },
        !due && h('span', {}, t('assign.asked', { when: fmtDateTime(plan.last_asked_at) })),
        h('span', {}, setByWords(plan)),
      ),
      h(
        'div',
        { class: 'actions' },
        h(
          'a',
          { class: `button${due ? ' primary' : ''}`, href: `#/checkin/${plan.instrument}` },
          due ? t('assign.answer') : t('assign.answer_late'),
        ),
      ),
    ),
  );
}

// Today's card of what the therapist set, hidden while there is nothing to show.
// `checkins` and `entries` (newest first, as journal.js loadEntries gives them) are the
// ones Today already read: a redraw after snooze, skip or done reads only assignments.
export async function todaySection(checkins, entries) {
  const section = h('section', { class: 'card', id: 'assignments', 'aria-labelledby': 'assign-title' });
  const answers = new Map(); // each homework's latest entry
  for (const e of entries) {
    const id = homeworkIdOf(e.prompt_id);
    if (id && !answers.has(id)) answers.set(id, e);
  }
  const draw = async () => {
    const rows = live(await getAll(STORES.assignment));
    const now = Date.now();
    const homework = rows.filter((a) => a.kind === 'homework' && onToday(a, now)).sort(homeworkOrder(now));
    const asks = askLines(
      rows.filter((a) => a.kind === 'measure'),
      checkins,
      now,
    );
    swap(
      section,
      h('h2', { id: 'assign-title' }, t('assign.title')),
      asks.length > 0 && h('ul', { class: 'list', 'aria-label': t('assign.checkins_label') }, asks),
      homework.length > 0 &&
        h(
          'ul',
          { class: 'list', 'aria-label': t('assign.homework_label') },
          homework.map((a) => homeworkItem(a, answers.get(a.id), now, draw)),
        ),
    );
    section.hidden = !asks.length && !homework.length;
  };
  await draw();
  return section;
}

// -- Reminders: the measurement plans the therapist set, each with its pause switch

function weekday(name) {
  // 2024-01-01 was a Monday
  const index = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].indexOf(name);
  if (index < 0) return name;
  return new Date(2024, 0, 1 + index).toLocaleDateString(locale(), { weekday: 'long' });
}

function sessionDay(n) {
  if (n < 0) return t('assign.days_before', { count: -n });
  if (n === 0) return t('assign.same_day');
  return t('assign.days_after', { count: n });
}

function scheduleWords(schedule) {
  if (schedule?.type === 'weekly') return t('assign.weekly', { day: weekday(schedule.day), time: schedule.time });
  if (schedule?.type === 'sessions') {
    const days = [...schedule.days].sort((a, b) => a - b).map(sessionDay);
    return t('assign.after_sessions', {
      days: new Intl.ListFormat(locale(), { type: 'conjunction' }).format(days),
      session: wordsOf(SESSION_WORDS, schedule.session_kind),
      time: schedule.time,
    });
  }
  return '';
}

function planItem(plan, redraw) {
  const paused = Boolean(plan.paused_at);
  const toggle = async () => {
    const pausedAt = paused ? null : localIso();
    await change(plan, { paused_at: pausedAt }, pausedAt ? t('assign.toast.paused') : t('assign.toast.resumed'));
    redraw();
  };
  return h(
    'li',
    { class: 'measure-plan', 'data-assignment-id': plan.id },
    h('h3', {}, wordsOf(INSTRUMENT_WORDS, plan.instrument)),
    h('p', { class: 'muted small' }, setByWords(plan)),
    h('p', {}, scheduleWords(plan.schedule)),
    plan.window_hours && h('p', { class: 'small' }, t('assign.window', { count: plan.window_hours })),
    h(
      'p',
      { class: 'small', role: 'status' },
      paused ? t('assign.paused_since', { when: fmtDate(plan.paused_at) }) : t('assign.active'),
    ),
    h(
      'button',
      { type: 'button', 'aria-pressed': String(paused), onclick: toggle },
      paused ? t('assign.resume') : t('assign.pause'),
    ),
  );
}

// Reminders' card of the therapist's measurement plans; hidden while there are none.
export async function plansCard() {
  const card = h('section', { class: 'card', id: 'measure-plans', 'aria-labelledby': 'plans-title' });
  const draw = async () => {
    const plans = live(await getAll(STORES.assignment))
      .filter((a) => a.kind === 'measure')
      .sort((a, b) => (a.created_at || '').localeCompare(b.created_at || ''));
    card.hidden = !plans.length;
    swap(
      card,
      h('h2', { id: 'plans-title' }, t('assign.plans_title')),
      h('p', { class: 'muted small' }, t('assign.plans_about')),
      h(
        'ul',
        { class: 'list' },
        plans.map((p) => planItem(p, draw)),
      ),
    );
  };
  await draw();
  return card;
}
