// The lock screen: "Between", the PIN, and Help now, nothing else. Shown by app.js before
// anything is read from the sealed device copy; resolves once unlocked (or erased).
// Help now works here, offline too, from the copy the lock keeps unsealed for it.

import { t } from '../i18n.js';
import { pendingCount } from '../outbox.js';
import { MAX_TRIES, signOutDue, tries, unlock } from '../lock.js';
import { signOut } from '../session.js';
import { confirmSheet, h, mount, swap } from '../ui.js';
import { render as renderHelp } from './help-now.js';

// Erase this device's copy (the lock with it). What reached the server stays there.
async function erase(title) {
  const unsent = await pendingCount();
  const ok = await confirmSheet(
    unsent ? t('lock.unsent_title') : title,
    unsent ? t('lock.unsent_text', { count: unsent }) : t('lock.erase_text'),
    unsent ? t('lock.erase_lose', { count: unsent }) : t('lock.erase_sign_in'),
    { danger: true },
  );
  if (!ok) return false;
  await signOut(); // ends the server session too, where there is a network
  return true;
}

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
    const button = h('button', { type: 'submit', class: 'primary' }, t('lock.unlock'));
    const message = h('p', { id: 'lock-message', class: 'lock-message', role: 'alert' });
    const eraseButton = h(
      'button',
      {
        type: 'button',
        class: 'danger',
        hidden: true,
        onclick: async () => (await erase(t('lock.erase_title'))) && finish('#/signin'),
      },
      t('lock.erase'),
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
          message.textContent = t('lock.too_many', { count: MAX_TRIES });
        } else if (count) {
          message.textContent =
            t('lock.wrong_pin', { n: count, count: MAX_TRIES }) +
            (waiting ? ` ${t('lock.try_again_in', { count: left })}` : '');
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
      h('label', { for: 'lock-pin' }, t('lock.pin')),
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
              onclick: async () => (await erase(t('lock.sign_in_again_title'))) && finish('#/signin'),
            },
            t('lock.forgot'),
          ),
          eraseButton,
        ),
      );

    async function draw() {
      if (/^#\/?help\b/.test(location.hash)) {
        const view = h('div', { class: 'view view-help view-locked' });
        await renderHelp(view, []);
        mount(view, h('p', {}, h('a', { class: 'button', href: '#/unlock' }, t('lock.back'))));
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
        h('div', { class: 'banner', id: 'signed-out-banner', role: 'status' }, h('p', {}, t('lock.signed_out'))),
      );
    };
    watcher = setInterval(leaveIfDue, CHECK_MS);
    window.addEventListener('hashchange', draw);
    leaveIfDue().then(() => leaving || draw());
  });
}
