// Sign in, create an account, join my therapist's care team with a code.

import * as api from '../api.js';
import { pendingCount } from '../outbox.js';
import { navigate } from '../router.js';
import { register, session, signIn, unsentFor } from '../session.js';
import { confirmSheet, fieldErrors, h, mount, pageTitle } from '../ui.js';

function errorBox() {
  return h('p', { class: 'error', role: 'alert', hidden: true });
}

function showError(box, err) {
  box.hidden = false;
  if (err instanceof api.NetworkError) box.textContent = 'You seem to be offline. Try again when you are connected.';
  else box.textContent = [err.message, ...fieldErrors(err.errors)].join(' ');
}

function field(id, label, attrs = {}, hint = null) {
  return [
    h('label', { for: id }, label, hint && h('span', { class: 'hint' }, hint)),
    h('input', { id, name: id, required: true, ...attrs }),
  ];
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
  const code = h('div', { hidden: true }, field('totp', 'Code from your authenticator app', { autocomplete: 'one-time-code', required: false }, 'Or a recovery code.'));
  form.insertBefore(code, err);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const email = form.email.value.trim();
    const lose = await unsentFor(email);
    if (
      lose &&
      !(await confirmSheet(
        'Sign in as someone else?',
        `${lose} changes saved on this device belong to the account that was signed in. Signing in as another person removes them from this device.`,
        'Remove and sign in',
        { danger: true },
      ))
    )
      return;
    const t = form.totp.value.trim();
    const secondFactor = !t ? {} : /^\d{6}$/.test(t) ? { totp_code: t } : { recovery_code: t };
    try {
      await signIn(email, form.password.value, secondFactor);
      navigate('today');
    } catch (e) {
      if (e.body?.totp_required) {
        code.hidden = false;
        form.totp.required = true;
        form.totp.focus();
      }
      showError(err, e);
    }
  });
  mount(root, 
    pageTitle(session.expired ? 'Sign in again' : 'Sign in'),
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
    h('p', {}, 'New to Between? ', h('a', { href: '#/signin/create' }, 'Create an account')),
  );
}

function createForm(root) {
  const err = errorBox();
  const form = h(
    'form',
    {},
    field('display_name', 'Your name', { type: 'text', autocomplete: 'nickname' }, 'Whatever you like to be called.'),
    field('email', 'Email', { type: 'email', autocomplete: 'email' }),
    field('password', 'Password', { type: 'password', autocomplete: 'new-password', minlength: 10 }, 'At least 10 characters.'),
    err,
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Create account')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await register({
        display_name: form.display_name.value.trim(),
        email: form.email.value.trim(),
        password: form.password.value,
      });
      navigate('signin/join');
    } catch (e) {
      showError(err, e);
    }
  });
  mount(root, 
    pageTitle('Create account'),
    h('p', { class: 'muted' }, 'Your entries are private unless you choose to share one.'),
    form,
    h('p', {}, 'Already have an account? ', h('a', { href: '#/signin' }, 'Sign in')),
  );
}

export function joinForm(root, { after = 'today', title = 'Join your care team' } = {}) {
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
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const link = await api.post('/care-team/join', { code: form.code.value.trim() });
      done.hidden = false;
      done.textContent = `You joined ${link.therapist?.display_name || 'your therapist'}'s care team. They see only what you share.`;
      form.reset();
      err.hidden = true;
    } catch (e) {
      showError(err, e);
    }
  });
  mount(root, 
    title && h('h2', {}, title),
    h('p', { class: 'muted' }, 'If your therapist gave you a code, enter it here. They will see only what you choose to share, your check-in scores and any safety answers.'),
    form,
    done,
  );
}

export async function render(root, [mode]) {
  if (mode === 'create') return createForm(root);
  if (mode === 'join' && session.user) {
    mount(root, pageTitle('Welcome to Between'));
    return joinForm(root, { title: 'Join your therapist’s care team' });
  }
  return signInForm(root);
}
