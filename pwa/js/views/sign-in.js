// Sign in, and join my therapist's care team with a code. Creating an account, a
// forgotten password and a therapist's invitation need the network anyway: they live in
// account.js, outside the precached shell.

import * as api from '../api.js';
import { CARE_TEAM_SEES } from '../care-words.js';
import { navigate } from '../nav.js';
import { pendingCount } from '../outbox.js';
import { session, signedIn, signIn, unsentFor } from '../session.js';
import { confirmSheet, h, mount, offlineScreen, pageTitle } from '../ui.js';
import { errorBox, field, showError, takeNotice } from './forms.js';

// Changes saved on this device for another account would go with a new sign-in.
async function sureToReplace(lose) {
  return (
    !lose ||
    confirmSheet(
      'Sign in as someone else?',
      `${lose} changes saved on this device belong to the account that was signed in. Signing in as ` +
        `another person removes them from this device.`,
      'Remove and sign in',
      { danger: true },
    )
  );
}

// The passkey says who signs in, so the question about another account's unsent
// changes comes after the server's answer; a "no" signs that session out again.
// webauthn.js is loaded here, not with the precached shell: signing in is online anyway.
async function passkeySignIn(err, button) {
  err.hidden = true;
  button.disabled = true;
  let cancelled = () => false;
  try {
    const webauthn = await import('../webauthn.js').catch(() => {
      throw new api.NetworkError('offline');
    });
    cancelled = webauthn.cancelled;
    const { options } = await api.post('/auth/login/passkey/options');
    const user = await api.post('/auth/login/passkey', await webauthn.getPasskey(options));
    if (!(await sureToReplace(await unsentFor(user.email)))) {
      await api.post('/auth/logout').catch(() => {});
      return;
    }
    await signedIn(user);
    navigate('today');
  } catch (e) {
    if (!cancelled(e)) showError(err, e);
  } finally {
    button.disabled = false;
  }
}

async function signInForm(root) {
  const unsent = session.user ? await pendingCount() : 0;
  const err = errorBox();
  const form = h(
    'form',
    { novalidate: false },
    field('email', 'Email', { type: 'email', autocomplete: 'username', value: session.user?.email || '' }),
    field('password', 'Password', { type: 'password', autocomplete: 'current-password' }),
    err,
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Sign in')),
  );
  // the second factor is a question the server asks, not an error
  const ask = h('label', { for: 'totp' }, 'Enter the 6-digit code from your authenticator app');
  const recovery = () => {
    ask.textContent = 'Enter one of your recovery codes';
    form.totp.inputMode = 'text';
    form.totp.autocomplete = 'off';
    other.hidden = true;
    form.totp.focus();
  };
  const other = h('button', { type: 'button', class: 'link', onclick: recovery }, 'Use a recovery code instead');
  const code = h(
    'div',
    { hidden: true },
    ask,
    h('input', { id: 'totp', name: 'totp', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code' }),
    other,
  );
  form.insertBefore(code, err);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const email = form.email.value.trim();
    if (!(await sureToReplace(await unsentFor(email)))) return;
    const t = form.totp.value.replace(/\s/g, '');
    const secondFactor = !t ? {} : /^\d{6}$/.test(t) ? { totp_code: t } : { recovery_code: t };
    try {
      await signIn(email, form.password.value, secondFactor);
      navigate('today');
    } catch (e) {
      if (e.body?.totp_required && code.hidden) {
        code.hidden = false;
        err.hidden = true;
        form.totp.required = true;
        form.totp.focus();
      } else {
        showError(err, e);
        if (e.body?.passkey_required) withPasskey?.focus();
      }
    }
  });
  // where the browser can use passkeys; the password stays
  const withPasskey =
    typeof window.PublicKeyCredential === 'function' &&
    h(
      'button',
      { type: 'button', class: 'passkey', onclick: (event) => passkeySignIn(err, event.currentTarget) },
      'Use a passkey',
    );
  const said = takeNotice();
  mount(
    root,
    pageTitle(session.expired ? 'Sign in again' : 'Sign in'),
    said && h('p', { class: 'banner', role: 'status' }, said),
    session.expired
      ? h(
          'p',
          { class: 'banner attention' },
          unsent
            ? `${unsent} changes are saved on this device. They will be sent as soon as you sign in.`
            : 'Your sign-in has ended. Everything on this device is kept.',
        )
      : h('p', { class: 'muted' }, 'Your companion between therapy sessions.'),
    form,
    withPasskey && h('div', { class: 'actions' }, withPasskey),
    h('p', {}, h('a', { href: '#/signin/forgot' }, 'Forgot your password?')),
    h('p', {}, 'New to Between? ', h('a', { href: '#/signin/create' }, 'Create an account')),
  );
}

export function joinForm(root, { after = 'today', title = 'Join your care team', code = '' } = {}) {
  const err = errorBox();
  const done = h('p', { role: 'status', class: 'banner', hidden: true });
  const form = h(
    'form',
    {},
    field('code', 'Code from your therapist', { type: 'text', autocomplete: 'off', autocapitalize: 'characters' }),
    err,
    h(
      'div',
      { class: 'actions' },
      h('button', { class: 'primary', type: 'submit' }, 'Join'),
      after && h('a', { class: 'button', href: `#/${after}` }, 'Not now'),
    ),
  );
  if (code) form.code.value = code; // from an invitation link
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const link = await api.post('/care-team/join', { code: form.code.value.trim() });
      done.hidden = false;
      done.replaceChildren(
        'You joined ',
        h('bdi', {}, link.therapist?.display_name || 'your therapist'),
        '’s care team. ',
        CARE_TEAM_SEES,
      );
      form.reset();
      err.hidden = true;
      if (after && !root.querySelector('.join-continue')) {
        // joined: the way on is Continue, no longer "Not now"
        form.querySelector(`.actions a[href="#/${after}"]`)?.remove();
        const next = h('a', { class: 'button primary', href: `#/${after}` }, 'Continue');
        done.after(h('div', { class: 'actions join-continue' }, next));
        next.focus();
      }
    } catch (e) {
      showError(err, e);
    }
  });
  mount(
    root,
    title && h('h2', {}, title),
    h('p', { class: 'muted' }, 'If your therapist gave you a code, enter it here. ', CARE_TEAM_SEES),
    form,
    done,
  );
}

const ELSEWHERE = { create: 'createForm', forgot: 'forgotForm', therapist: 'therapistForm' };

export async function render(root, [mode, token]) {
  if (ELSEWHERE[mode]) {
    const mod = await import('./account.js').catch(() => null);
    return mod ? mod[ELSEWHERE[mode]](root, token) : offlineScreen(root);
  }
  if (mode === 'join' && session.user) {
    mount(root, pageTitle('Welcome to Between'));
    const code = new URLSearchParams(location.hash.split('?')[1] || '').get('code') || '';
    return joinForm(root, { title: 'Join your therapist’s care team', code });
  }
  return signInForm(root);
}
