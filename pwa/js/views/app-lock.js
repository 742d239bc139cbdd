// More → App lock: a PIN that keeps Between closed, and everything it keeps on this
// phone encrypted, for when a phone is shared, borrowed or picked up. Reached at
// #/more/app-lock (the More screen draws it).

import { IDLE_CHOICES, lockNow, lockSettings, saveSettings, turnOff, turnOn, validPin } from '../lock.js';
import { h, pageTitle, swap } from '../ui.js';

const ABOUT =
  'With the app lock on, Between asks for your PIN when it opens and after you leave it for a while. ' +
  'Everything it keeps on this phone is encrypted, so nobody who picks the phone up can read it. ' +
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

function offForm(root, status) {
  const pin = pinInput('lock-new', 'new-password');
  const again = pinInput('lock-again', 'new-password');
  const idle = idleSelect(5 * 60_000);
  const contacts = contactsBox(false);
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
          showContacts: contacts.querySelector('input').checked,
        });
        await draw(root, 'App lock is on. Between will ask for your PIN when it opens.');
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

function onForm(root, lock, status) {
  const idle = idleSelect(lock.idle_ms);
  const contacts = contactsBox(Boolean(lock.show_contacts));
  const save = async () => {
    await saveSettings({ idleMs: Number(idle.value), showContacts: contacts.querySelector('input').checked });
    swap(status, 'Lock settings saved.');
  };
  idle.addEventListener('change', save);
  contacts.addEventListener('change', save);
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
    h(
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
