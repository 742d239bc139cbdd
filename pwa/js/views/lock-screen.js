// The lock screen: "Between", the PIN, and Help now, nothing else. Shown by app.js before
// anything is read from the sealed device copy; resolves once unlocked (or erased).
// Help now works here, offline too, from the copy the lock keeps unsealed for it.

import { pendingCount } from '../outbox.js';
import { MAX_TRIES, signOutDue, tries, unlock } from '../lock.js';
import { signOut } from '../session.js';
import { confirmSheet, h, mount, swap } from '../ui.js';
import { render as renderHelp } from './help-now.js';

const changesHave = (n) => `${n} ${n === 1 ? 'change has' : 'changes have'}`;

// Erase this device's copy (the lock with it). What reached the server stays there.
async function erase(title) {
  const unsent = await pendingCount();
  const ok = await confirmSheet(
    unsent ? 'Some changes are not sent yet' : title,
    unsent
      ? `${changesHave(unsent)} not reached the server. Erasing Between from this device removes ` +
          `${unsent === 1 ? 'it' : 'them'} for good. Everything else is safe on the server: sign in ` +
          'again with your password to see it.'
      : 'Everything Between keeps on this device will be removed from it. It stays safe on the server: ' +
          'sign in again with your password to see it.',
    unsent ? `Erase and lose ${unsent === 1 ? 'it' : 'them'}` : 'Erase and sign in again',
    { danger: true },
  );
  if (!ok) return false;
  await signOut(); // ends the server session too, where there is a network
  return true;
}

const SIGNED_OUT =
  'You were signed out after a while without activity. Nothing about your patients is kept on this device.';
const CHECK_MS = 5000;

export function showLockScreen(main) {
  const tabbar = document.getElementById('tabbar');
  tabbar.hidden = true;
  // where the person was: opened again after unlocking
  const back = /^#\/?help\b/.test(location.hash) ? '#/today' : location.hash || '#/today';
  return new Promise((resolve) => {
    let ticker = null;
    let watcher = null;
    const finish = (hash) => {
      clearInterval(ticker);
      clearInterval(watcher);
      window.removeEventListener('hashchange', draw);
      history.replaceState(null, '', hash);
      resolve();
    };

    const pin = h('input', {
      id: 'lock-pin',
      name: 'pin',
      type: 'password',
      inputmode: 'numeric',
      autocomplete: 'off',
      pattern: '[0-9]*',
      required: true,
      autofocus: true,
    });
    const button = h('button', { type: 'submit', class: 'primary' }, 'Unlock');
    const message = h('p', { id: 'lock-message', class: 'lock-message', role: 'alert' });
    const eraseButton = h(
      'button',
      {
        type: 'button',
        class: 'danger',
        hidden: true,
        onclick: async () => (await erase('Erase Between from this device?')) && finish('#/signin'),
      },
      'Erase Between from this device',
    );

    // the wrong-PIN count and the wait, counted down each second
    const show = async () => {
      clearInterval(ticker);
      const { count, until } = await tries();
      const tick = () => {
        const left = Math.ceil((until - Date.now()) / 1000);
        const waiting = left > 0;
        const over = count >= MAX_TRIES;
        button.disabled = waiting || over;
        eraseButton.hidden = !over;
        if (over) {
          message.textContent =
            `${MAX_TRIES} wrong PINs. Between cannot be unlocked on this device any more: sign in again ` +
            'with your password, or erase it from this device.';
        } else if (count) {
          message.textContent =
            `Wrong PIN (${count} of ${MAX_TRIES}).` +
            (waiting ? ` Try again in ${left} ${left === 1 ? 'second' : 'seconds'}.` : '');
        } else message.textContent = '';
        if (!waiting) clearInterval(ticker);
      };
      tick();
      if (until > Date.now()) ticker = setInterval(tick, 1000);
    };

    const form = h(
      'form',
      {
        class: 'lock-form',
        onsubmit: async (event) => {
          event.preventDefault();
          if (button.disabled) return;
          button.disabled = true;
          const answer = await unlock(pin.value);
          pin.value = '';
          if (answer.ok) finish(back);
          else await show();
        },
      },
      h('label', { for: 'lock-pin' }, 'PIN'),
      pin,
      button,
    );

    const lockView = () =>
      h(
        'section',
        { id: 'lock-screen', class: 'lock-screen', 'aria-labelledby': 'lock-title' },
        h('h1', { id: 'lock-title', tabindex: '-1' }, 'Between'),
        form,
        message,
        h(
          'p',
          { class: 'lock-actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              onclick: async () => (await erase('Sign in again?')) && finish('#/signin'),
            },
            'Forgot PIN? Sign in again',
          ),
          eraseButton,
        ),
      );

    async function draw() {
      if (/^#\/?help\b/.test(location.hash)) {
        const view = h('div', { class: 'view view-help view-locked' });
        await renderHelp(view, []);
        mount(view, h('p', {}, h('a', { class: 'button', href: '#/unlock' }, 'Back to unlock')));
        swap(main, view);
        return;
      }
      swap(main, lockView());
      await show();
      pin.focus();
    }

    // a therapist's tab, locked and forgotten, signs out when the session would have
    // (the server ends its side then too): the device copy goes, the lock with it
    let leaving = false;
    const leaveIfDue = async () => {
      if (leaving || !(await signOutDue())) return;
      leaving = true;
      await signOut();
      finish('#/signin');
      mount(
        document.getElementById('banners'),
        h('div', { class: 'banner', id: 'signed-out-banner', role: 'status' }, h('p', {}, SIGNED_OUT)),
      );
    };
    watcher = setInterval(leaveIfDue, CHECK_MS);
    window.addEventListener('hashchange', draw);
    leaveIfDue().then(() => leaving || draw());
  });
}
