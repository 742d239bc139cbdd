// Sessions: schedule, move and cancel a patient's upcoming dosing, integration,
// preparation and maintenance sessions. Past ones are history: their note can be
// amended, and one that did not take place marked so; they cannot be moved or deleted.
// Changes go from the version they started with: a session changed elsewhere meanwhile
// is shown again rather than overwritten.

import { ApiError } from '../api.js';
import { confirmSheet, fieldErrors, fmtDateTime, h, localIso, mount, pageTitle, swap, toast } from '../ui.js';
import { KINDS, bdi, del, errorLine, get, patientName, patientNav, post, problem, put } from './common.js';

const ROUTES = { '': 'None', IM: 'IM', IV: 'IV', sublingual: 'Sublingual', intranasal: 'Intranasal' };
const STATUS = { scheduled: 'Scheduled', held: 'Held', did_not_happen: 'Did not happen' };
const pad = (n) => String(n).padStart(2, '0');

// date and time inputs speak this browser's local time, like every time on screen
function localParts(iso) {
  const d = new Date(iso);
  return {
    date: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
    time: `${pad(d.getHours())}:${pad(d.getMinutes())}`,
  };
}

function defaults() {
  const { date } = localParts(Date.now() + 7 * 86_400_000);
  return { kind: 'integration', date, time: '10:00', duration_minutes: 60, route: null, title: '', note: '' };
}

// The form for a new session (`session` null) or an existing one.
function sessionForm(pid, session, done, cancel) {
  const start = session ? { ...session, ...localParts(session.starts_at) } : defaults();
  const p = session ? `edit-${session.id}` : 'new';
  const kind = h(
    'select',
    { id: `${p}-kind`, name: 'kind' },
    Object.entries(KINDS).map(([v, l]) => h('option', { value: v, selected: v === start.kind }, l)),
  );
  const date = h('input', { type: 'date', id: `${p}-date`, name: 'date', required: true, value: start.date });
  const time = h('input', { type: 'time', id: `${p}-time`, name: 'time', required: true, value: start.time });
  const minutes = h('input', {
    type: 'number',
    id: `${p}-minutes`,
    name: 'duration',
    min: 5,
    max: 1440,
    step: 5,
    required: true,
    value: String(start.duration_minutes),
  });
  const route = h(
    'select',
    { id: `${p}-route`, name: 'route' },
    Object.entries(ROUTES).map(([v, l]) => h('option', { value: v, selected: (start.route || '') === v }, l)),
  );
  const title = h('input', { type: 'text', id: `${p}-title`, name: 'title', maxlength: 200, value: start.title || '' });
  const note = h('textarea', { id: `${p}-note`, name: 'note', class: 'short', maxlength: 5000 }, start.note || '');
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const field = (el, label, hint) =>
    h('div', { class: 'field' }, h('label', { for: el.id }, label, hint && h('span', { class: 'hint' }, hint)), el);
  const form = h(
    'form',
    { class: 'session-form', 'aria-label': session ? 'Change session' : 'Schedule a session' },
    h(
      'div',
      { class: 'grid' },
      field(kind, 'Kind'),
      field(date, 'Date'),
      field(time, 'Start time', 'Your local time'),
      field(minutes, 'Minutes'),
      field(route, 'Route', 'Dosing sessions'),
      field(title, 'Title', 'Optional'),
    ),
    field(note, 'Note for the patient', 'They see it on their timeline'),
    error,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, session ? 'Save changes' : 'Schedule session'),
      cancel && h('button', { type: 'button', onclick: cancel }, 'Cancel'),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const starts = new Date(`${date.value}T${time.value}`);
    if (Number.isNaN(starts.getTime())) return;
    const data = {
      kind: kind.value,
      starts_at: localIso(starts),
      duration_minutes: Number(minutes.value),
      route: route.value || null,
      title: title.value.trim(),
      note: note.value.trim(),
    };
    try {
      const saved = session
        ? await put(`/patients/${pid}/sessions/${session.id}`, { ...data, version: session.version })
        : await post(`/patients/${pid}/sessions`, data);
      toast(session ? 'Session changed' : 'Session scheduled');
      done(saved);
    } catch (err) {
      error.hidden = false;
      if (err instanceof ApiError && err.status === 409) {
        error.textContent =
          'This session was changed meanwhile. The list now shows the current version: make your change again.';
        done(null);
      } else error.textContent = [problem(err), ...fieldErrors(err.errors || {})].join(' ');
    }
  });
  return form;
}

// A past session's note, amended; the rest of it is history.
function noteForm(pid, session, done, cancel) {
  const id = `note-${session.id}`;
  const note = h('textarea', { id, class: 'short', maxlength: 5000 }, session.note || '');
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const form = h(
    'form',
    { class: 'session-form', 'aria-label': 'Amend note' },
    h(
      'div',
      { class: 'field' },
      h('label', { for: id }, 'Note for the patient', h('span', { class: 'hint' }, 'They see it on their timeline')),
      note,
    ),
    error,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Save note'),
      h('button', { type: 'button', onclick: cancel }, 'Cancel'),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const saved = await put(`/patients/${pid}/sessions/${session.id}`, {
        note: note.value.trim(),
        version: session.version,
      });
      toast('Note amended');
      done(saved);
    } catch (err) {
      error.hidden = false;
      if (err instanceof ApiError && err.status === 409)
        error.textContent = 'This session was changed meanwhile. Reload the list and amend the note again.';
      else error.textContent = [problem(err), ...fieldErrors(err.errors || {})].join(' ');
    }
  });
  return form;
}

export async function render(root, [pid]) {
  const title = pageTitle('Sessions');
  const list = h('div', { id: 'session-list' });
  const formArea = h('div', {});
  mount(root, h('div', { class: 'page-head' }, title), list);
  const refresh = async () => {
    let sessions;
    try {
      sessions = await get(`/patients/${pid}/sessions`);
    } catch (err) {
      swap(list, errorLine(err));
      return;
    }
    const now = Date.now();
    const upcoming = sessions.filter((s) => new Date(s.starts_at).getTime() > now);
    const past = sessions.filter((s) => new Date(s.starts_at).getTime() <= now).reverse();
    const label = (s) => `${KINDS[s.kind] || s.kind} session, ${fmtDateTime(s.starts_at)}`;
    const editRowAfter = (tr, content) => {
      if (tr.nextElementSibling?.classList.contains('editing')) return;
      const editRow = h('tr', { class: 'editing' }, h('td', { colspan: 7 }, content));
      tr.after(editRow);
      editRow.querySelector('select, textarea').focus();
    };
    // upcoming: change or cancel
    const upcomingActions = (s, tr) => [
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          'aria-label': `Change ${label(s)}`,
          onclick: () =>
            editRowAfter(
              tr,
              sessionForm(
                pid,
                s,
                () => refresh(),
                () => refresh(),
              ),
            ),
        },
        'Change',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'link danger',
          'aria-label': `Cancel ${label(s)}`,
          onclick: async () => {
            if (
              !(await confirmSheet(
                'Cancel this session?',
                `${label(s)}. The patient's timeline and reminders change at once.`,
                'Cancel session',
                { danger: true },
              ))
            )
              return;
            try {
              await del(`/patients/${pid}/sessions/${s.id}`);
              toast('Session cancelled');
            } catch (err) {
              toast(problem(err));
            }
            refresh();
          },
        },
        'Cancel',
      ),
    ];
    // past: what happened is history; only its note can be amended, and a session
    // that did not take place can say so
    const pastActions = (s, tr) => [
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          'aria-label': `Amend the note of ${label(s)}`,
          onclick: () =>
            editRowAfter(
              tr,
              noteForm(
                pid,
                s,
                () => refresh(),
                () => refresh(),
              ),
            ),
        },
        'Amend note',
      ),
      s.status !== 'did_not_happen' &&
        h(
          'button',
          {
            type: 'button',
            class: 'link danger',
            'aria-label': `Mark ${label(s)} as did not happen`,
            onclick: async () => {
              if (
                !(await confirmSheet(
                  'Mark as did not happen?',
                  `${label(s)}. It stays on the timeline, marked as not held.`,
                  'Did not happen',
                ))
              )
                return;
              try {
                await put(`/patients/${pid}/sessions/${s.id}`, { status: 'did_not_happen', version: s.version });
                toast('Marked as did not happen');
              } catch (err) {
                toast(problem(err));
              }
              refresh();
            },
          },
          'Did not happen',
        ),
    ];
    const row = (s, past) => {
      const cell = h('td', { class: 'row-actions' });
      const tr = h(
        'tr',
        { 'data-session-id': s.id, class: s.status === 'did_not_happen' ? 'not-held' : '' },
        h('th', { scope: 'row' }, fmtDateTime(s.starts_at)),
        h('td', {}, KINDS[s.kind] || s.kind),
        h('td', { class: 'num' }, `${s.duration_minutes} min`),
        h('td', {}, s.route || '—'),
        h('td', { class: 'user-text' }, s.title || s.note || ''),
        h('td', {}, s.status === 'did_not_happen' ? STATUS.did_not_happen : past ? STATUS.held : STATUS.scheduled),
        cell,
      );
      mount(cell, past ? pastActions(s, tr) : upcomingActions(s, tr));
      return tr;
    };
    const table = (caption, items, id) =>
      h(
        'section',
        { 'aria-labelledby': id },
        h('h2', { id }, caption),
        items.length
          ? h(
              'table',
              { class: 'sessions' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['When', 'Kind', 'Length', 'Route', 'Title or note', 'Status', 'Actions'].map((t) =>
                    h('th', { scope: 'col' }, t),
                  ),
                ),
              ),
              h(
                'tbody',
                {},
                items.map((s) => row(s, items === past)),
              ),
            )
          : h('p', { class: 'muted' }, 'None.'),
      );
    swap(list, table('Upcoming', upcoming, 'upcoming-title'), table('Past', past, 'past-title'));
  };
  const name = await patientName(pid).catch(() => 'Patient');
  swap(title, 'Sessions: ', bdi(name));
  document.title = `Sessions: ${name} · Between`;
  title.parentElement.after(patientNav(pid, 'sessions', name));
  await refresh();
  mount(
    root,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'schedule-title' },
      h('h2', { id: 'schedule-title' }, 'Schedule a session'),
      formArea,
    ),
  );
  const resetForm = () =>
    swap(
      formArea,
      sessionForm(pid, null, () => {
        resetForm();
        refresh();
      }),
    );
  resetForm();
  return null;
}
