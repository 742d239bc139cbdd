// More → App lock: a PIN that keeps Between closed, and everything it keeps on this
// phone encrypted, for when a phone is shared, borrowed or picked up. Reached at
// #/more/app-lock (the More screen draws it); on a therapist's device, at #/app-lock from
// the therapist's navigation.

import { IDLE_CHOICES, lockNow, lockSettings, saveSettings, turnOff, turnOn, validPin } from '../lock.js';
import { h, mount, pageTitle, swap } from '../ui.js';

const ABOUT =
  'With the app lock on, Between asks for your PIN when it opens and after you leave it for a while. ' +
  'Everything it keeps on this device is encrypted, so nobody who picks it up can read it. ' +
  'Help now works on the lock screen too.';

function idleSelect(current) {
  return h(
    'select',
    { id: 'lock-idle', name: 'idle' },
    IDLE_CHOICES.map((c) => h('option', { value: String(c.ms), selected: c.ms === current }, c.label)),
  );
}

function contactsBox(checked) {
  return h(
    'p',
    { class: 'check' },
    h('input', { type: 'checkbox', id: 'lock-contacts', name: 'contacts', checked }),
    h('label', { for: 'lock-contacts' }, 'Show my own contacts in Help now on the lock screen'),
  );
}

const field = (id, label, input) => h('p', { class: 'field' }, h('label', { for: id }, label), input);

const pinInput = (id, autocomplete = 'off') =>
  h('input', {
    id,
    type: 'password',
    inputmode: 'numeric',
    pattern: '[0-9]*',
    autocomplete,
    minlength: 6,
    required: true,
  });

// `after`: what follows turning the lock on (by default, this screen again, saying so);
// `signOutMs`: a therapist's session idle time, which a locked tab keeps to
function offForm(root, status, { after = null, withContacts = true, signOutMs = null } = {}) {
  const pin = pinInput('lock-new', 'new-password');
  const again = pinInput('lock-again', 'new-password');
  const idle = idleSelect(5 * 60_000);
  const contacts = withContacts && contactsBox(false);
  const error = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Turn on app lock');
  return h(
    'form',
    {
      class: 'card',
      onsubmit: async (event) => {
        event.preventDefault();
        if (!validPin(pin.value)) return swap(error, 'A PIN is 6 digits or more.');
        if (pin.value !== again.value) return swap(error, 'The two PINs are not the same.');
        swap(error);
        button.disabled = true;
        swap(status, 'Turning the app lock on…');
        await turnOn(pin.value, {
          idleMs: Number(idle.value),
          showContacts: Boolean(contacts && contacts.querySelector('input').checked),
          signOutMs,
        });
        if (after) after();
        else await draw(root, 'App lock is on. Between will ask for your PIN when it opens.');
      },
    },
    field('lock-new', 'New PIN', pin),
    field('lock-again', 'The PIN again', again),
    field('lock-idle', 'Lock after', idle),
    contacts,
    error,
    button,
  );
}

// a therapist's device (its lock signs out with the session) keeps the lock on, and has
// no own contacts to show
const therapistDevice = (lock) => Boolean(lock.sign_out_ms);

function onForm(root, lock, status) {
  const idle = idleSelect(lock.idle_ms);
  const contacts = !therapistDevice(lock) && contactsBox(Boolean(lock.show_contacts));
  const save = async () => {
    await saveSettings({
      idleMs: Number(idle.value),
      showContacts: contacts && contacts.querySelector('input').checked,
    });
    swap(status, 'Lock settings saved.');
  };
  idle.addEventListener('change', save);
  if (contacts) contacts.addEventListener('change', save);
  const pin = pinInput('lock-off');
  const error = h('p', { class: 'error', role: 'alert' });
  return [
    h(
      'section',
      { class: 'card' },
      field('lock-idle', 'Lock after', idle),
      contacts,
      h('button', { type: 'button', onclick: lockNow }, 'Lock now'),
    ),
    therapistDevice(lock)
      ? h('p', { class: 'muted' }, 'On a therapist’s device the app lock stays on.')
      : h(
          'form',
          {
            class: 'card',
            onsubmit: async (event) => {
              event.preventDefault();
              if (!(await turnOff(pin.value))) return swap(error, 'That is not your PIN.');
              await draw(root, 'App lock is off. What Between keeps on this phone is no longer encrypted.');
            },
          },
          h('h2', {}, 'Turn the app lock off'),
          field('lock-off', 'Your PIN', pin),
          error,
          h('button', { type: 'submit' }, 'Turn off app lock'),
        ),
  ];
}

async function draw(root, said = '') {
  const lock = await lockSettings();
  const status = h('p', { id: 'lock-status', role: 'status' }, said);
  swap(
    root,
    pageTitle('App lock'),
    h('p', { class: 'muted' }, ABOUT),
    status,
    lock?.wrapped ? onForm(root, lock, status) : offForm(root, status),
  );
}

export const render = (root) => draw(root);

// A therapist's device: the lock is on by default, so after signing in a therapist sets a
// PIN before anything else opens (app.js waits for this). What they open holds patients'
// words, even if this device keeps none of them. A locked tab still signs out after the
// session's idle time (`signOutMs`), as the open app would have.
export function requireLock(main, { signOutMs }) {
  document.getElementById('tabbar').hidden = true;
  return new Promise((resolve) => {
    const view = h('div', { class: 'view view-app-lock' });
    const status = h('p', { id: 'lock-status', role: 'status' });
    swap(
      main,
      mount(
        view,
        pageTitle('Set a PIN for this device'),
        h(
          'p',
          {},
          'Between stays locked on a therapist’s device: choose a PIN of 6 digits or more. It asks for it when ' +
            'it opens and after you leave it for a while.',
        ),
        status,
        offForm(view, status, { after: resolve, withContacts: false, signOutMs }),
      ),
    );
  });
}
