// Plans and homework a therapist sets a patient (issue #23), on the patient's brief:
// measurement plans (an instrument every week, or on days around each session of a
// kind, with hours to answer in) and homework (a writing prompt, a plan review or a
// parts-map exercise, due at a moment or some days after a session). The patient sees
// who set each and may pause a plan: the list says when they did. Also the brief's
// follow-through since the last session, and the words the caseload's count uses.
// Memory only, like every therapist screen: nothing here is kept on the device.

import { ApiError } from '../api.js';
import { DAY_MS } from '../constants.js';
import { locale, t } from '../i18n.js';
import { confirmSheet, fmtDateTime, h, localIso, mount, swap, toast } from '../ui.js';
import { bdi, del, get, patch, post, problem } from './common.js';

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const SESSION_KINDS = ['dosing', 'integration', 'preparation', 'maintenance'];
const DEFAULT_WINDOW_HOURS = 48;

// -- words (functions, so a change of language reads anew)

const instrumentName = (i) =>
  ({ phq9: t('th_assign.phq9'), gad7: t('th_assign.gad7'), daily: t('th_assign.daily') })[i] || i;

const homeworkName = (type) =>
  ({
    prompt: t('th_assign.type_prompt'),
    plan_review: t('th_assign.type_plan_review'),
    parts_exercise: t('th_assign.type_parts_exercise'),
  })[type] || type;

// "dosing session": the noun phrase "each …" and "after the …" take
const sessionNoun = (kind) =>
  ({
    dosing: t('th_assign.session_dosing'),
    integration: t('th_assign.session_integration'),
    preparation: t('th_assign.session_preparation'),
    maintenance: t('th_assign.session_maintenance'),
  })[kind] || kind;

const statusName = (status) =>
  ({
    open: t('th_assign.status_open'),
    done: t('th_assign.status_done'),
    late: t('th_assign.status_late'),
    skipped: t('th_assign.status_skipped'),
  })[status] || status;

// 1 January 2024 was a Monday: the weekday's name in the therapist's language
const weekdayName = (day) =>
  new Intl.DateTimeFormat(locale(), { weekday: 'long' }).format(new Date(2024, 0, 1 + WEEKDAYS.indexOf(day)));

// "dosing session" heads a choice as "Dosing session"
const capital = (words) => words.charAt(0).toLocaleUpperCase(locale()) + words.slice(1);

const andList = (items) => new Intl.ListFormat(locale(), { type: 'conjunction' }).format(items.map(String));

// "1 day before, 1 and 7 days after each dosing session, at 09:00"; the plural follows
// the one number, or is plural for several
function relativeDays(days) {
  const before = days.filter((d) => d < 0).map((d) => -d);
  const after = days.filter((d) => d > 0);
  const count = (list) => (list.length === 1 ? list[0] : list.length);
  const parts = [];
  if (before.length) parts.push(t('th_assign.days_before', { days: andList(before), count: count(before) }));
  if (days.includes(0)) parts.push(t('th_assign.on_the_day'));
  if (after.length) parts.push(t('th_assign.days_after', { days: andList(after), count: count(after) }));
  return parts.join(', ');
}

export function scheduleWords(schedule) {
  if (!schedule) return '';
  if (schedule.type === 'weekly')
    return t('th_assign.sched_weekly', { day: weekdayName(schedule.day), time: schedule.time });
  const days = [...(schedule.days || [])].sort((a, b) => a - b);
  return t('th_assign.sched_sessions', {
    when: relativeDays(days),
    session: sessionNoun(schedule.session_kind),
    time: schedule.time,
  });
}

// "2 open · 1 late": a caseload row's homework, the counts that are not 0
export function homeworkCounts(counts) {
  if (!counts) return [];
  const words = {
    late: t('th_assign.count_late', { count: counts.late }),
    open: t('th_assign.count_open', { count: counts.open }),
    skipped: t('th_assign.count_skipped', { count: counts.skipped }),
    done: t('th_assign.count_done', { count: counts.done }),
  };
  return ['late', 'open', 'skipped', 'done'].filter((k) => counts[k] > 0).map((k) => ({ key: k, words: words[k] }));
}

// -- one form's fields and the server's errors beside them

// A labelled control with its hint and its own error line (read with the control).
function field(control, label, hint) {
  const error = h('p', { class: 'field-error', id: `${control.id}-error`, hidden: true });
  const hintEl = hint && h('span', { class: 'hint', id: `${control.id}-hint` }, hint);
  control.setAttribute('aria-describedby', [hintEl && hintEl.id, error.id].filter(Boolean).join(' '));
  const wrap = h('div', { class: 'field' }, h('label', { for: control.id }, label, hintEl), control, error);
  return { wrap, control, error };
}

// The one error format's `errors.json`, each message beside the field its path names
// (the longest known prefix: "schedule.days.1" is the days field); the rest, and the
// message itself, in the form's alert. Nothing typed is touched.
function errorDisplay(alert, fields) {
  const clear = () => {
    alert.hidden = true;
    alert.textContent = '';
    for (const f of Object.values(fields)) {
      f.error.hidden = true;
      f.error.textContent = '';
      f.control.removeAttribute('aria-invalid');
    }
  };
  const owner = (path) => {
    const parts = path.split('.');
    for (; parts.length; parts.pop()) if (fields[parts.join('.')]) return fields[parts.join('.')];
    return null;
  };
  const show = (message, errors = {}) => {
    const loose = [];
    const walk = (value, path) => {
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
        const f = owner(path);
        if (!f) loose.push(`${path}: ${value.join(' ')}`);
        else {
          f.error.hidden = false;
          f.error.textContent = [f.error.textContent, ...value].filter(Boolean).join(' ');
          f.control.setAttribute('aria-invalid', 'true');
        }
      } else if (value && typeof value === 'object')
        Object.entries(value).forEach(([k, v]) => walk(v, path ? `${path}.${k}` : k));
    };
    walk(errors, '');
    alert.hidden = false;
    alert.textContent = [message, ...loose].join(' ');
    const first = Object.values(fields).find((f) => !f.error.hidden);
    (first ? first.control : alert).focus?.();
  };
  return { clear, show };
}

const radio = (name, value, label, checked) => {
  const id = `${name}-${value}`;
  return h(
    'div',
    { class: 'check' },
    h('input', { type: 'radio', name, value, id, checked }),
    h('label', { for: id }, label),
  );
};

// Radios whose value shows its own group of fields and hides the others' groups.
function choiceSet(legend, controls, groups) {
  const set = h('fieldset', { class: 'choices' }, h('legend', {}, legend), controls);
  const chosen = () => set.querySelector('input:checked').value;
  const show = () => Object.entries(groups).forEach(([value, group]) => (group.hidden = value !== chosen()));
  set.addEventListener('change', show);
  show();
  return { set, chosen };
}

// A form of `fields` with its alert and its submit and cancel buttons; `onSubmit` gets
// the form's errorDisplay, cleared of the last attempt's words.
function assignForm({ label, submitLabel, onCancel, fields, onSubmit }, ...body) {
  const alert = h('p', { class: 'error', role: 'alert', tabindex: '-1', hidden: true });
  const errors = errorDisplay(alert, fields);
  const form = h(
    'form',
    { class: 'assign-form', 'aria-label': label, novalidate: true },
    body,
    alert,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, submitLabel),
      h('button', { type: 'button', onclick: onCancel }, t('th_assign.cancel')),
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    errors.clear();
    onSubmit(errors);
  });
  return form;
}

// "1, 7" or "-1 2" → [1, 7], [-1, 2]; null when a word is not a whole number
function parseDays(text) {
  const words = text
    .replace(/−/g, '-')
    .split(/[\s,;]+/)
    .filter(Boolean);
  return words.every((w) => /^[-+]?\d+$/.test(w)) ? words.map(Number) : null;
}

// What a stale save tells the therapist: the copy now on the server, and that their
// typing is still in the form, to be saved over it.
function conflictWords(current) {
  return t('th_assign.conflict', { now: current ? measureLine(current) : '' });
}

// -- measurement plans

// "1 and 7 days after each dosing session, at 09:00 · 48 hours to answer"
const measureWhen = (a) => `${scheduleWords(a.schedule)} · ${t('th_assign.window', { count: a.window_hours })}`;
const measureLine = (a) => `${instrumentName(a.instrument)} · ${measureWhen(a)}`;

function measureForm(pid, assignment, { onSaved, onCancel }) {
  const p = assignment ? `m-${assignment.id}` : 'm-new';
  const start = assignment?.schedule || { type: 'sessions', session_kind: 'dosing', days: [1, 7], time: '09:00' };
  let version = assignment?.version;
  const instrument = h(
    'select',
    { id: `${p}-instrument` },
    ['phq9', 'gad7', 'daily'].map((i) =>
      h('option', { value: i, selected: i === (assignment?.instrument || 'phq9') }, instrumentName(i)),
    ),
  );
  const day = h(
    'select',
    { id: `${p}-day` },
    WEEKDAYS.map((d) => h('option', { value: d, selected: d === (start.day || 'monday') }, weekdayName(d))),
  );
  const kind = h(
    'select',
    { id: `${p}-session-kind` },
    SESSION_KINDS.map((k) =>
      h('option', { value: k, selected: k === (start.session_kind || 'dosing') }, capital(sessionNoun(k))),
    ),
  );
  const days = h('input', {
    type: 'text',
    id: `${p}-days`,
    autocomplete: 'off',
    value: (start.days || [1, 7]).join(', '),
  });
  const time = h('input', { type: 'time', id: `${p}-time`, required: true, value: start.time });
  const windowHours = h('input', {
    type: 'number',
    id: `${p}-window`,
    min: 1,
    max: 168,
    step: 1,
    required: true,
    value: String(assignment?.window_hours ?? DEFAULT_WINDOW_HOURS),
  });
  const fields = {
    instrument: field(instrument, t('th_assign.instrument')),
    'schedule.day': field(day, t('th_assign.weekday')),
    'schedule.session_kind': field(kind, t('th_assign.session_kind')),
    'schedule.days': field(days, t('th_assign.days'), t('th_assign.days_hint')),
    'schedule.time': field(time, t('th_assign.time'), t('th_assign.their_time')),
    window_hours: field(windowHours, t('th_assign.window_hours'), t('th_assign.window_hint')),
  };
  const weekly = h('div', { class: 'grid' }, fields['schedule.day'].wrap);
  const around = h('div', { class: 'grid' }, fields['schedule.session_kind'].wrap, fields['schedule.days'].wrap);
  const when = choiceSet(
    t('th_assign.when'),
    [
      radio(`${p}-type`, 'sessions', t('th_assign.around_sessions'), start.type !== 'weekly'),
      radio(`${p}-type`, 'weekly', t('th_assign.every_week'), start.type === 'weekly'),
    ],
    { sessions: around, weekly },
  );
  const onSubmit = async (errors) => {
    const schedule =
      when.chosen() === 'weekly'
        ? { type: 'weekly', day: day.value, time: time.value }
        : { type: 'sessions', session_kind: kind.value, days: parseDays(days.value), time: time.value };
    if (schedule.days === null) {
      errors.show(t('th_assign.check_fields'), { schedule: { days: [t('th_assign.days_words')] } });
      return;
    }
    const data = {
      instrument: instrument.value,
      schedule,
      // the server checks it (1 to 168): empty or not a number goes as null, refused beside the field
      window_hours: windowHours.value === '' ? null : Number(windowHours.value),
    };
    try {
      const saved = assignment
        ? await patch(`/patients/${pid}/assignments/${assignment.id}`, { ...data, version })
        : await post(`/patients/${pid}/assignments`, { kind: 'measure', ...data });
      toast(assignment ? t('th_assign.saved') : t('th_assign.added'));
      onSaved(saved);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && err.body?.current) {
        version = err.body.current.version;
        errors.show(conflictWords(err.body.current));
      } else errors.show(problem(err), err.errors || {});
    }
  };
  return assignForm(
    {
      label: assignment ? t('th_assign.edit_measure') : t('th_assign.add_measure'),
      submitLabel: assignment ? t('th_assign.save') : t('th_assign.add_measure'),
      onCancel,
      fields,
      onSubmit,
    },
    h('div', { class: 'grid' }, fields.instrument.wrap),
    when.set,
    weekly,
    around,
    h('div', { class: 'grid' }, fields['schedule.time'].wrap, fields.window_hours.wrap),
  );
}

function measureItem(pid, a, refresh) {
  const li = h('li', { class: 'assignment measure', 'data-assignment-id': a.id });
  const line = measureLine(a);
  const actions = h(
    'div',
    { class: 'actions no-print' },
    h(
      'button',
      {
        type: 'button',
        class: 'link',
        'aria-label': t('th_assign.edit_named', { what: line }),
        onclick: () => {
          if (li.querySelector('form')) return;
          const form = measureForm(pid, a, { onSaved: refresh, onCancel: () => form.remove() });
          li.append(form);
          form.querySelector('select').focus();
        },
      },
      t('th_assign.edit'),
    ),
    deleteButton(pid, a, line, refresh),
  );
  return mount(
    li,
    h('p', { class: 'what' }, h('strong', {}, instrumentName(a.instrument)), ` · ${measureWhen(a)}`),
    h(
      'p',
      { class: 'meta' },
      h('span', {}, setBy(a)),
      a.last_asked_at && h('span', {}, t('th_assign.last_asked', { when: fmtDateTime(a.last_asked_at) })),
    ),
    a.paused_at && h('p', { class: 'paused' }, t('th_assign.paused_since', { when: fmtDateTime(a.paused_at) })),
    actions,
  );
}

const setBy = (a) =>
  a.set_by ? [t('th_assign.set_by'), ' ', bdi(a.set_by.display_name)] : t('th_assign.set_by_former');

function deleteButton(pid, a, what, refresh) {
  return h(
    'button',
    {
      type: 'button',
      class: 'link danger',
      'aria-label': t('th_assign.delete_named', { what }),
      onclick: async () => {
        const ok = await confirmSheet(
          a.kind === 'measure' ? t('th_assign.delete_measure_title') : t('th_assign.delete_homework_title'),
          `${what}. ${t('th_assign.delete_text')}`,
          t('th_assign.delete'),
          { danger: true },
        );
        if (!ok) return;
        try {
          await del(`/patients/${pid}/assignments/${a.id}`);
          toast(t('th_assign.deleted'));
        } catch (err) {
          toast(problem(err));
        }
        refresh();
      },
    },
    t('th_assign.delete'),
  );
}

// -- homework

const sessionLabel = (s) => t('th_assign.session_on', { session: sessionNoun(s.kind), when: fmtDateTime(s.starts_at) });

function homeworkForm(pid, sessions, { onSaved, onCancel }) {
  const p = 'hw-new';
  const upcoming = sessions.filter(
    (s) => new Date(s.starts_at).getTime() > Date.now() && s.status !== 'did_not_happen',
  );
  const nextDosing = upcoming.find((s) => s.kind === 'dosing') || upcoming[0];
  const type = h(
    'select',
    { id: `${p}-type` },
    ['prompt', 'plan_review', 'parts_exercise'].map((v) => h('option', { value: v }, homeworkName(v))),
  );
  const text = h('textarea', { id: `${p}-text`, class: 'short', maxlength: 2000 });
  // a week from now, this device's calendar day
  const week = localIso(new Date(Date.now() + 7 * DAY_MS)).slice(0, 10);
  const date = h('input', { type: 'date', id: `${p}-date`, value: week });
  const atTime = h('input', { type: 'time', id: `${p}-at-time`, value: '18:00' });
  const dueDays = h('input', { type: 'number', id: `${p}-days`, min: -14, max: 28, step: 1, value: '2' });
  const session = h(
    'select',
    { id: `${p}-session` },
    upcoming.map((s) => h('option', { value: s.id, selected: s === nextDosing }, capital(sessionLabel(s)))),
  );
  const dueTime = h('input', { type: 'time', id: `${p}-due-time`, value: '18:00' });
  const fields = {
    homework_type: field(type, t('th_assign.homework_type')),
    text: field(text, t('th_assign.text'), t('th_assign.text_hint')),
    due_at: field(date, t('th_assign.due_date')),
    due_at_time: field(atTime, t('th_assign.time'), t('th_assign.your_time')),
    due_days: field(dueDays, t('th_assign.due_days'), t('th_assign.due_days_hint')),
    due_session_id: field(session, t('th_assign.after_session')),
    due_time: field(dueTime, t('th_assign.time'), t('th_assign.their_time')),
  };
  const atGroup = h('div', { class: 'grid' }, fields.due_at.wrap, fields.due_at_time.wrap);
  const sessionGroup = h(
    'div',
    { class: 'grid' },
    fields.due_days.wrap,
    fields.due_session_id.wrap,
    fields.due_time.wrap,
  );
  const due = choiceSet(
    t('th_assign.due'),
    [
      radio(`${p}-due`, 'at', t('th_assign.due_on_date'), true),
      upcoming.length
        ? radio(`${p}-due`, 'session', t('th_assign.due_after_session'), false)
        : h('p', { class: 'hint' }, t('th_assign.no_upcoming')),
    ],
    { at: atGroup, session: sessionGroup },
  );
  const onSubmit = async (errors) => {
    const data = { kind: 'homework', homework_type: type.value, text: text.value.trim() };
    if (due.chosen() === 'at') {
      const moment = new Date(`${date.value}T${atTime.value}`);
      if (Number.isNaN(moment.getTime())) {
        errors.show(t('th_assign.check_fields'), { due_at: [t('th_assign.due_words')] });
        return;
      }
      data.due_at = localIso(moment);
    } else {
      Object.assign(data, {
        due_session_id: session.value,
        due_days: dueDays.value === '' ? null : Number(dueDays.value),
        due_time: dueTime.value || null,
      });
    }
    try {
      onSaved(await post(`/patients/${pid}/assignments`, data));
      toast(t('th_assign.assigned'));
    } catch (err) {
      errors.show(problem(err), err.errors || {});
    }
  };
  return assignForm(
    { label: t('th_assign.assign_homework'), submitLabel: t('th_assign.assign_homework'), onCancel, fields, onSubmit },
    h('div', { class: 'grid' }, fields.homework_type.wrap),
    fields.text.wrap,
    due.set,
    atGroup,
    sessionGroup,
  );
}

function dueWords(a, sessions) {
  if (!a.due_at) return '';
  const when = t('th_assign.due_when', { when: fmtDateTime(a.due_at) });
  const session = a.due_session_id && sessions.find((s) => s.id === a.due_session_id);
  if (!session) return when;
  const vars = { count: Math.abs(a.due_days), session: sessionLabel(session) };
  const relative =
    a.due_days > 0
      ? t('th_assign.due_after', vars)
      : a.due_days < 0
        ? t('th_assign.due_before', vars)
        : t('th_assign.due_same_day', vars);
  return `${when} (${relative})`;
}

// both the list and the brief's follow-through send a homework item's status as of now
function statusLine(a) {
  const status = a.status_now;
  const tone = { late: 'warn', done: 'good', skipped: '' }[status] ?? '';
  return h(
    'p',
    { class: 'status' },
    h('span', { class: `badge ${tone}`.trim(), 'data-status': status }, statusName(status)),
    a.done_at && [' ', t('th_assign.done_at', { when: fmtDateTime(a.done_at) })],
    status === 'skipped' &&
      (a.skip_reason
        ? [' ', t('th_assign.skip_reason'), ' ', h('span', { class: 'user-text reason' }, a.skip_reason)]
        : [' ', t('th_assign.skip_no_reason')]),
    status !== 'done' &&
      status !== 'skipped' &&
      a.snoozed_until &&
      new Date(a.snoozed_until) > new Date() && [' ', t('th_assign.snoozed', { when: fmtDateTime(a.snoozed_until) })],
  );
}

function homeworkItem(pid, a, sessions, refresh) {
  return h(
    'li',
    { class: `assignment homework status-${a.status_now}`, 'data-assignment-id': a.id },
    h('p', { class: 'what' }, h('strong', {}, homeworkName(a.homework_type))),
    a.text && h('p', { class: 'user-text hw-text' }, a.text),
    h('p', { class: 'meta' }, h('span', {}, dueWords(a, sessions)), h('span', {}, setBy(a))),
    statusLine(a),
    h('div', { class: 'actions no-print' }, deleteButton(pid, a, homeworkName(a.homework_type), refresh)),
  );
}

// -- the section on the brief

export function plansSection(pid) {
  const measureList = h('ul', { class: 'plain assignments', id: 'measure-list' });
  const homeworkList = h('ul', { class: 'plain assignments', id: 'homework-list' });
  const status = h('p', { class: 'muted', role: 'status' }, t('th_assign.loading'));
  const measureArea = h('div', {});
  const homeworkArea = h('div', {});
  let sessions = [];
  const refresh = async () => {
    let items;
    try {
      [{ items }, sessions] = await Promise.all([
        get(`/patients/${pid}/assignments`),
        get(`/patients/${pid}/sessions`),
      ]);
    } catch (err) {
      status.hidden = false;
      status.textContent = problem(err);
      return;
    }
    status.hidden = true;
    // the list holds no deleted item (server/assignments/read.py live)
    const measures = items.filter((a) => a.kind === 'measure');
    const homework = items
      .filter((a) => a.kind === 'homework')
      .sort((a, b) => (a.due_at || '').localeCompare(b.due_at || ''));
    swap(
      measureList,
      measures.length
        ? measures.map((a) => measureItem(pid, a, refresh))
        : h('li', { class: 'muted' }, t('th_assign.no_measures')),
    );
    swap(
      homeworkList,
      homework.length
        ? homework.map((a) => homeworkItem(pid, a, sessions, refresh))
        : h('li', { class: 'muted' }, t('th_assign.no_homework')),
    );
  };
  const opener = (label, area, makeForm) => {
    const button = h('button', { type: 'button' }, label);
    const close = () => {
      swap(area);
      button.hidden = false;
      button.focus();
    };
    button.addEventListener('click', () => {
      button.hidden = true;
      const form = makeForm(close);
      swap(area, form);
      form.querySelector('select').focus();
    });
    return button;
  };
  const addMeasure = opener(t('th_assign.add_measure'), measureArea, (close) =>
    measureForm(pid, null, {
      onSaved: () => {
        close();
        refresh();
      },
      onCancel: close,
    }),
  );
  const addHomework = opener(t('th_assign.assign_homework'), homeworkArea, (close) =>
    homeworkForm(pid, sessions, {
      onSaved: () => {
        close();
        refresh();
      },
      onCancel: close,
    }),
  );
  refresh();
  return h(
    'section',
    { class: 'card no-print plans', 'aria-labelledby': 'plans-title', id: 'plans' },
    h('h2', { id: 'plans-title' }, t('th_assign.title')),
    h('p', { class: 'muted small' }, t('th_assign.intro')),
    status,
    h('h3', { id: 'measures-title' }, t('th_assign.measures')),
    measureList,
    addMeasure,
    measureArea,
    h('h3', { id: 'homework-title' }, t('th_assign.homework')),
    homeworkList,
    addHomework,
    homeworkArea,
  );
}

// done, skipped or past due: open and still to come has nothing to report yet
const happened = (a) => a.status_now !== 'open';

// The brief's follow-through since the last session: per plan, how many asks went out
// and how they were answered; per homework item, where it stands.
export function followThroughSection(ft) {
  const measures = ft?.measures || [];
  const homework = ft?.homework || [];
  const numbers = ['asked', 'on_time', 'late', 'missed', 'open'];
  const heads = [
    t('th_assign.col_instrument'),
    t('th_assign.col_asked'),
    t('th_assign.col_on_time'),
    t('th_assign.col_late'),
    t('th_assign.col_missed'),
    t('th_assign.col_open'),
  ];
  const el = h(
    'section',
    { class: 'card follow-through', 'aria-labelledby': 'follow-title' },
    h('h2', { id: 'follow-title' }, t('th_assign.follow_title')),
    measures.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'measures stack-narrow' },
            h('caption', { class: 'visually-hidden' }, t('th_assign.follow_measures')),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                heads.map((text) => h('th', { scope: 'col' }, text)),
              ),
            ),
            h(
              'tbody',
              {},
              measures.map((m) =>
                h(
                  'tr',
                  {
                    'data-assignment-id': m.assignment_id,
                    'data-instrument': m.instrument,
                    class: m.asked ? null : 'not-yet',
                  },
                  h('th', { scope: 'row' }, instrumentName(m.instrument)),
                  numbers.map((k, n) =>
                    h('td', { class: 'num', 'data-count': k, 'data-label': heads[n + 1] }, String(m[k] ?? 0)),
                  ),
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, t('th_assign.follow_no_measures')),
    homework.length
      ? h(
          'ul',
          { class: 'plain follow-homework' },
          homework.map((a) =>
            h(
              'li',
              { 'data-assignment-id': a.id, class: happened(a) ? null : 'not-yet' },
              h('strong', {}, homeworkName(a.homework_type)),
              a.text && [': ', h('span', { class: 'user-text' }, a.text)],
              a.due_at &&
                h('span', { class: 'muted' }, ` · ${t('th_assign.due_when', { when: fmtDateTime(a.due_at) })}`),
              statusLine(a),
            ),
          ),
        )
      : h('p', { class: 'muted' }, t('th_assign.follow_no_homework')),
  );
  // Paper keeps what happened (asks that went out, homework due or answered): a plan
  // not yet asked and homework not yet due take no line of a one-page brief, and with
  // nothing else the section leaves the space (print hides .not-yet and section.empty).
  if (!measures.some((m) => m.asked) && !homework.some(happened)) el.classList.add('empty');
  return el;
}
