// Sign in, and join my therapist's care team with a code. Creating an account, a
// forgotten password and a therapist's invitation need the network anyway: they live in
// account.js, outside the precached shell.

import * as api from '../api.js';
import { careTeamSees, notEmergency } from '../care-words.js';
import { t, tNodes } from '../i18n.js';
import { navigate } from '../nav.js';
import { pendingCount } from '../outbox.js';
import { session, signedIn, signIn, unsentFor } from '../session.js';
import { confirmSheet, h, mount, offlineScreen, pageTitle } from '../ui.js';
import { errorBox, field, showError, takeNotice } from './forms.js';

// Changes saved on this device for another account would go with a new sign-in.
async function sureToReplace(lose) {
  return (
    !lose ||
    confirmSheet(t('signin.replace_title'), t('signin.replace_text', { count: lose }), t('signin.replace_ok'), {
      danger: true,
    })
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

// the server's words about a field name it as the form does
const labels = () => ({
  email: t('signin.email'),
  password: t('signin.password'),
  totp_code: t('signin.code'),
  recovery_code: t('signin.code'),
});

async function signInForm(root) {
  const unsent = session.user ? await pendingCount() : 0;
  const err = errorBox();
  const form = h(
    'form',
    { novalidate: false },
    field('email', t('signin.email'), { type: 'email', autocomplete: 'username', value: session.user?.email || '' }),
    field('password', t('signin.password'), { type: 'password', autocomplete: 'current-password' }),
    err,
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, t('signin.submit'))),
  );
  // the second factor is a question the server asks, not an error
  const ask = h('label', { for: 'totp' }, t('signin.totp_ask'));
  const recovery = () => {
    ask.textContent = t('signin.recovery_ask');
    form.totp.inputMode = 'text';
    form.totp.autocomplete = 'off';
    other.hidden = true;
    form.totp.focus();
  };
  const other = h('button', { type: 'button', class: 'link', onclick: recovery }, t('signin.use_recovery'));
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
    const typed = form.totp.value.replace(/\s/g, '');
    const secondFactor = !typed ? {} : /^\d{6}$/.test(typed) ? { totp_code: typed } : { recovery_code: typed };
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
        showError(err, e, labels());
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
      t('signin.use_passkey'),
    );
  const said = takeNotice();
  mount(
    root,
    pageTitle(session.expired ? t('signin.title_again') : t('signin.title')),
    said && h('p', { class: 'banner', role: 'status' }, said),
    session.expired
      ? h('p', { class: 'banner attention' }, unsent ? t('signin.unsent', { count: unsent }) : t('signin.ended'))
      : h('p', { class: 'muted' }, t('signin.tagline')),
    form,
    withPasskey && h('div', { class: 'actions' }, withPasskey),
    h('p', {}, h('a', { href: '#/signin/forgot' }, t('signin.forgot'))),
    h('p', {}, tNodes('signin.new', { link: h('a', { href: '#/signin/create' }, t('signin.create')) })),
    // before anyone is signed in too: this is no emergency service, and where help is
    h('p', { class: 'muted small', id: 'not-emergency' }, notEmergency(), ' ', t('signin.in_danger')),
  );
}

export function joinForm(root, { after = 'today', title = t('join.title'), code = '' } = {}) {
  const err = errorBox();
  const done = h('p', { role: 'status', class: 'banner', hidden: true });
  const form = h(
    'form',
    {},
    field('code', t('join.code'), { type: 'text', autocomplete: 'off', autocapitalize: 'characters' }),
    err,
    h(
      'div',
      { class: 'actions' },
      h('button', { class: 'primary', type: 'submit' }, t('join.submit')),
      after && h('a', { class: 'button', href: `#/${after}` }, t('join.not_now')),
    ),
  );
  if (code) form.code.value = code; // from an invitation link
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const link = await api.post('/care-team/join', { code: form.code.value.trim() });
      done.hidden = false;
      const who = h('bdi', {}, link.therapist?.display_name || t('care.your_therapist'));
      done.replaceChildren(...tNodes('join.joined', { who }), ' ', careTeamSees());
      form.reset();
      err.hidden = true;
      if (after && !root.querySelector('.join-continue')) {
        // joined: the way on is Continue, no longer "Not now"
        form.querySelector(`.actions a[href="#/${after}"]`)?.remove();
        const next = h('a', { class: 'button primary', href: `#/${after}` }, t('join.continue'));
        done.after(h('div', { class: 'actions join-continue' }, next));
        next.focus();
      }
    } catch (e) {
      showError(err, e, { code: t('join.code') });
    }
  });
  mount(
    root,
    title && h('h2', {}, title),
    h('p', { class: 'muted' }, t('join.about'), ' ', careTeamSees()),
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
    mount(root, pageTitle(t('join.welcome')));
    const code = new URLSearchParams(location.hash.split('?')[1] || '').get('code') || '';
    return joinForm(root, { title: t('join.title_invited'), code });
  }
  return signInForm(root);
}
