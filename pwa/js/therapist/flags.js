// Flags inbox: risk flags across the caseload, open first; acknowledge with what was
// done and/or a note, and add notes later.
// A push for a new flag opens this screen (#/flags, or #/flags/<id> for one flag).

import { enableNotifications, notificationState } from '../push.js';
import { fieldErrors, h, mount, pageTitle, swap, toast } from '../ui.js';
import { ACTIONS, bdi, errorLine, fmtWhen, get, post, problem, reasonShort } from './common.js';

// The form for one flag: acknowledge an open flag (`mode` 'ack') or add a note to an
// acknowledged one ('note'). An acknowledgement says what was done (an action) and/or
// a note; "Other" needs a note; an empty one is refused here and by the server.
// `done(flag)` gets the server's answer.
export function ackForm(flag, done, { mode = 'ack', cancel = null } = {}) {
  const p = `${mode}-${flag.id}`;
  const noteId = `${p}-note`;
  const errorId = `${p}-error`;
  const note = h('textarea', { id: noteId, class: 'short', maxlength: 2000, 'aria-describedby': errorId });
  const error = h('p', { class: 'error', role: 'alert', id: errorId, hidden: true });
  const radios = Object.entries(ACTIONS).map(([value, label]) => {
    const input = h('input', { type: 'radio', name: `${p}-action`, value, id: `${p}-${value}` });
    return h('div', { class: 'choice' }, input, h('label', { for: input.id }, label));
  });
  const ack = mode === 'ack';
  const button = h('button', { type: 'submit', class: 'primary' }, ack ? 'Acknowledge flag' : 'Save note');
  const form = h(
    'form',
    {
      class: ack ? 'ack' : 'ack add-note',
      'data-flag-id': flag.id,
      'aria-label': ack ? 'Acknowledge the flag' : 'Add a note to the flag',
      novalidate: true,
    },
    h(
      'fieldset',
      { class: 'actions-choice' },
      h('legend', {}, ack ? 'What did you do?' : 'What did you do? (optional)'),
      radios,
    ),
    h(
      'label',
      { for: noteId },
      'Note',
      h(
        'span',
        { class: 'hint' },
        ack
          ? 'What you did or will do: kept with the flag in the audit log. Needed for “Other”.'
          : 'Kept with the flag in the audit log.',
      ),
    ),
    note,
    error,
    h('div', { class: 'actions' }, button, cancel && h('button', { type: 'button', onclick: cancel }, 'Cancel')),
  );
  const refuse = (text) => {
    error.hidden = false;
    error.textContent = text;
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const action = form.querySelector('input[type=radio]:checked')?.value || null;
    const text = note.value.trim();
    if (ack && !action && !text)
      return refuse('Choose what you did or write a note: a flag is not closed without one.');
    if (!ack && !text) return refuse('Write the note first.');
    if (action === 'other' && !text) return refuse('“Other” needs a note saying what you did.');
    error.hidden = true;
    button.disabled = true;
    const body = { ...(action ? { action } : {}), ...(text ? { note: text } : {}) };
    try {
      const answer = await post(`/flags/${flag.id}/${ack ? 'acknowledge' : 'notes'}`, body);
      toast(ack ? 'Flag acknowledged' : 'Note added');
      done(answer);
    } catch (err) {
      if (err?.status === 409)
        refuse('This flag was acknowledged meanwhile. Reload to see by whom; you can add a note.');
      else refuse([problem(err), ...fieldErrors(err?.errors || {})].join(' '));
      button.disabled = false;
    }
  });
  return form;
}

// The notes on a flag, oldest first, each with its author and time. An older server
// sends only the acknowledgement note.
function notesList(f) {
  const notes = f.notes?.length
    ? f.notes
    : f.acknowledgement_note
      ? [{ id: 'ack', author: f.acknowledged_by, note: f.acknowledgement_note, created_at: f.acknowledged_at }]
      : [];
  if (!notes.length) return null;
  return h(
    'ol',
    { class: 'flag-notes', 'aria-label': 'Notes' },
    notes.map((n) =>
      h(
        'li',
        { class: 'flag-note', 'data-note-id': n.id },
        h(
          'p',
          { class: 'meta' },
          n.action && h('strong', {}, ACTIONS[n.action] || n.action),
          h('span', {}, bdi(n.author || 'A therapist')),
          h('span', {}, fmtWhen(n.created_at)),
        ),
        n.note && h('p', { class: 'ack-note' }, n.note),
      ),
    ),
  );
}

function answerLine(f) {
  const parts = [];
  if (typeof f.item_value === 'boolean') parts.push(`answer: ${f.item_words || (f.item_value ? 'yes' : 'no')}`);
  else if (f.item_value != null) parts.push(`item value ${f.item_value}${f.item_words ? ` (${f.item_words})` : ''}`);
  if (f.total != null) parts.push(`check-in total ${f.total}${f.severity ? ` (${f.severity})` : ''}`);
  return parts.length ? h('p', { class: 'flag-answer' }, parts.join(' · ')) : null;
}

// the brief from the day before the answer, which shows that check-in and its context
function checkinLink(f) {
  if (!f.patient_id) return null;
  const at = f.answered_at || f.created_at;
  const since = new Date(new Date(at).getTime() - 86_400_000).toISOString();
  return h(
    'a',
    { class: 'no-print', href: `#/patient/${f.patient_id}?since=${encodeURIComponent(since)}` },
    'Open the brief at this check-in',
  );
}

export function flagCard(flag, { withPatient = true, interactive = true, onChange = () => {} } = {}) {
  const card = h('article', {
    class: `card flag flag-${flag.status}`,
    id: `flag-${flag.id}`,
    'data-flag-id': flag.id,
    tabindex: '-1',
  });
  const fill = (f, { focus = false } = {}) => {
    card.className = `card flag flag-${f.status}`;
    const answered = f.answered_at || null;
    const formArea = h('div', { class: 'flag-form' });
    let opener = null;
    if (interactive) {
      const open = f.status === 'open';
      opener = h(
        'button',
        { type: 'button', class: open ? 'primary' : '', 'aria-expanded': 'false' },
        open ? 'Acknowledge' : 'Add a note',
      );
      opener.addEventListener('click', () => {
        opener.hidden = true;
        opener.setAttribute('aria-expanded', 'true');
        const form = ackForm(
          f,
          (answer) => {
            const next = { ...f, ...answer };
            fill(next, { focus: true });
            onChange(next);
          },
          {
            mode: open ? 'ack' : 'note',
            cancel: () => {
              swap(formArea);
              opener.hidden = false;
              opener.setAttribute('aria-expanded', 'false');
              opener.focus();
            },
          },
        );
        swap(formArea, form);
        form.querySelector('input, textarea').focus();
      });
    }
    swap(
      card,
      h(
        'h3',
        {},
        f.status === 'open'
          ? h('span', { class: 'badge alert' }, 'Open')
          : h('span', { class: 'badge' }, 'Acknowledged'),
        ' ',
        withPatient ? h('a', { href: `#/patient/${f.patient_id}` }, bdi(f.patient_name)) : reasonShort(f),
      ),
      withPatient && h('p', { class: 'flag-reason' }, reasonShort(f)),
      answerLine(f),
      h(
        'p',
        { class: 'meta' },
        answered
          ? h('span', { class: 'answered' }, `Answered ${fmtWhen(answered)}`)
          : h('span', {}, `Raised ${fmtWhen(f.created_at)}`),
        answered &&
          Math.abs(new Date(f.created_at) - new Date(answered)) > 3_600_000 &&
          h('span', { class: 'muted' }, `reached us ${fmtWhen(f.created_at)}`),
        f.acknowledged_at &&
          h('span', {}, 'Acknowledged ', fmtWhen(f.acknowledged_at), ' by ', bdi(f.acknowledged_by || 'you')),
      ),
      notesList(f),
      interactive && h('div', { class: 'actions no-print' }, opener, checkinLink(f)),
      formArea,
    );
    if (focus) card.focus();
  };
  fill(flag);
  return card;
}

async function alertsCard() {
  const card = h(
    'section',
    { class: 'card no-print', 'aria-labelledby': 'alerts-title' },
    h('h2', { id: 'alerts-title' }, 'Flag alerts on this device'),
  );
  const state = await notificationState().catch(() => ({ supported: false }));
  if (!state.supported) return mount(card, h('p', { class: 'muted' }, 'This browser cannot show notifications.'));
  if (state.permission === 'granted' && state.subscribed)
    return mount(card, h('p', {}, 'On: a new flag shows a notification (no name, no score) that opens this inbox.'));
  const button = h('button', { type: 'button' }, 'Turn on flag alerts');
  button.addEventListener('click', async () => {
    try {
      const answer = await enableNotifications();
      toast(answer === 'granted' ? 'Flag alerts are on' : 'Notifications are blocked in this browser');
    } catch (err) {
      toast(problem(err));
    }
  });
  return mount(
    card,
    h('p', { class: 'muted' }, 'Get a notification when a check-in raises a flag. It carries no name and no score.'),
    button,
  );
}

export async function render(root, [focusId]) {
  const list = h('div', { id: 'flag-list' });
  const summary = h('p', { class: 'muted', id: 'flag-summary', role: 'status' });
  mount(
    root,
    pageTitle('Flags'),
    h(
      'p',
      { class: 'notice small' },
      'Flags come from check-in answers (PHQ-9 item 9 above 0, or “yes” to the daily safety question). The ' +
        'patient was shown their crisis card at once.',
    ),
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
    h(
      'section',
      { 'aria-labelledby': id },
      h('h2', { id }, title),
      items.length ? items.map((f) => flagCard(f, { onChange: count })) : h('p', { class: 'muted' }, 'None.'),
    );
  mount(
    list,
    section('Open', open, 'open-title'),
    section(
      'Acknowledged',
      flags.filter((f) => f.status !== 'open'),
      'done-title',
    ),
  );
  count();
  mount(root, await alertsCard());
  if (focusId) {
    const target = document.getElementById(`flag-${focusId}`) || list.querySelector('.flag-open');
    target?.classList.add('focused');
  }
  return null;
}
