// Flags inbox: risk flags across the caseload, open first; acknowledge with a note.
// A push for a new flag opens this screen (#/flags, or #/flags/<id> for one flag).

import { enableNotifications, notificationState } from '../push.js';
import { fmtDateTime, h, mount, pageTitle, swap, toast } from '../ui.js';
import { errorLine, get, post, problem, reasonWords } from './common.js';

// The acknowledge form for one open flag; `done(flag)` gets the server's answer.
export function ackForm(flag, done) {
  const id = `ack-note-${flag.id}`;
  const note = h('textarea', { id, class: 'short', maxlength: 2000 });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Acknowledge');
  const form = h(
    'form',
    { class: 'ack', 'data-flag-id': flag.id },
    h('label', { for: id }, 'Note', h('span', { class: 'hint' }, 'What you did or will do: kept with the flag in the audit log.')),
    note,
    error,
    h('div', { class: 'actions' }, button),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      const answer = await post(`/flags/${flag.id}/acknowledge`, { note: note.value.trim() });
      toast('Flag acknowledged');
      done(answer);
    } catch (err) {
      error.hidden = false;
      error.textContent = problem(err);
      button.disabled = false;
    }
  });
  return form;
}

export function flagCard(flag, { withPatient = true, interactive = true, onChange = () => {} } = {}) {
  const card = h('article', { class: `card flag flag-${flag.status}`, id: `flag-${flag.id}`, 'data-flag-id': flag.id, tabindex: '-1' });
  const fill = (f) => {
    swap(
      card,
      h(
        'h3',
        {},
        f.status === 'open' ? h('span', { class: 'badge alert' }, 'Open') : h('span', { class: 'badge' }, 'Acknowledged'),
        ' ',
        withPatient ? h('a', { href: `#/patient/${f.patient_id}` }, f.patient_name) : reasonWords(f.reason),
      ),
      withPatient && h('p', {}, reasonWords(f.reason)),
      h('p', { class: 'meta' }, h('span', {}, `Raised ${fmtDateTime(f.created_at)}`), f.acknowledged_at && h('span', {}, `Acknowledged ${fmtDateTime(f.acknowledged_at)} by ${f.acknowledged_by || 'you'}`)),
      f.acknowledgement_note && h('p', { class: 'ack-note' }, `Note: ${f.acknowledgement_note}`),
      f.status === 'open' &&
        interactive &&
        ackForm(f, (answer) => {
          fill({ ...f, ...answer });
          onChange(answer);
        }),
    );
  };
  fill(flag);
  return card;
}

async function alertsCard() {
  const card = h('section', { class: 'card no-print', 'aria-labelledby': 'alerts-title' }, h('h2', { id: 'alerts-title' }, 'Flag alerts on this device'));
  const state = await notificationState().catch(() => ({ supported: false }));
  if (!state.supported) return mount(card, h('p', { class: 'muted' }, 'This browser cannot show notifications.'));
  if (state.permission === 'granted' && state.subscribed) return mount(card, h('p', {}, 'On: a new flag shows a notification (no name, no score) that opens this inbox.'));
  const button = h('button', { type: 'button' }, 'Turn on flag alerts');
  button.addEventListener('click', async () => {
    try {
      const answer = await enableNotifications();
      toast(answer === 'granted' ? 'Flag alerts are on' : 'Notifications are blocked in this browser');
    } catch (err) {
      toast(problem(err));
    }
  });
  return mount(card, h('p', { class: 'muted' }, 'Get a notification when a check-in raises a flag. It carries no name and no score.'), button);
}

export async function render(root, [focusId]) {
  const list = h('div', { id: 'flag-list' });
  const summary = h('p', { class: 'muted', id: 'flag-summary', role: 'status' });
  mount(
    root,
    pageTitle('Flags'),
    h('p', { class: 'notice small' }, 'Flags come from check-in answers (PHQ-9 item 9 above 0, or “yes” to the daily safety question). The patient was shown their crisis card at once.'),
    summary,
    list,
  );
  let flags;
  try {
    flags = await get('/flags');
  } catch (err) {
    list.replaceWith(errorLine(err));
    return null;
  }
  const open = flags.filter((f) => f.status === 'open');
  const count = () => {
    const left = list.querySelectorAll('.flag-open').length;
    summary.textContent = left ? `${left} open` : 'No open flags.';
  };
  const section = (title, items, id) =>
    h('section', { 'aria-labelledby': id }, h('h2', { id }, title), items.length ? items.map((f) => flagCard(f, { onChange: count })) : h('p', { class: 'muted' }, 'None.'));
  mount(list, section('Open', open, 'open-title'), section('Acknowledged', flags.filter((f) => f.status !== 'open'), 'done-title'));
  count();
  mount(root, await alertsCard());
  if (focusId) {
    const target = document.getElementById(`flag-${focusId}`) || list.querySelector('.flag-open');
    target?.classList.add('focused');
  }
  return null;
}
