// Account screens that need the network anyway, so they stay out of the precached
// shell: creating an account, a forgotten password, a new password from a mailed link
// (#/reset/<token>) and a therapist's sign-up from the clinic's invitation
// (#/signin/therapist/<token>).

import * as api from '../api.js';
import { navigate } from '../nav.js';
import { markExpired, register, session, unsentFor } from '../session.js';
import { confirmSheet, h, mount, pageTitle } from '../ui.js';
import { errorBox, field, flash, showError } from './forms.js';

const NEW_PASSWORD = { type: 'password', autocomplete: 'new-password', minlength: 10 };
const AT_LEAST = 'At least 10 characters.';

const submitRow = (label) => h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, label));
const backToSignIn = () => h('p', {}, h('a', { href: '#/signin' }, 'Back to sign in'));

// Signing up on a device that holds another account's unsent changes removes them.
async function mayReplace(email) {
  const lose = await unsentFor(email);
  return (
    !lose ||
    confirmSheet(
      'Sign up as someone else?',
      `${lose} changes saved on this device belong to the account that was signed in. Signing up as another ` +
        `person removes them from this device.`,
      'Remove and sign up',
      { danger: true },
    )
  );
}

// an invitation link (#/signin/create?code=…) carries the therapist's code
const invitedCode = () => new URLSearchParams(location.hash.split('?')[1] || '').get('code')?.trim() || '';

export function createForm(root) {
  const err = errorBox();
  const code = invitedCode();
  const form = h(
    'form',
    {},
    field('display_name', 'Your name', { type: 'text', autocomplete: 'nickname' }, 'Whatever you like to be called.'),
    field('email', 'Email', { type: 'email', autocomplete: 'email' }),
    field('password', 'Password', NEW_PASSWORD, AT_LEAST),
    err,
    submitRow('Create account'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await register({
        display_name: form.display_name.value.trim(),
        email: form.email.value.trim(),
        password: form.password.value,
      });
      // the code goes on to the join screen, which fills it in
      navigate(code ? `signin/join?code=${encodeURIComponent(code)}` : 'signin/join');
    } catch (e) {
      showError(err, e);
    }
  });
  mount(
    root,
    pageTitle('Create account'),
    h('p', { class: 'muted' }, 'Your entries are private unless you choose to share one.'),
    code &&
      h(
        'p',
        { class: 'banner', id: 'invite-code-note' },
        'Your therapist’s invitation code ',
        h('strong', {}, code),
        ' is kept: you join their care team right after.',
      ),
    form,
    h('p', {}, 'Already have an account? ', h('a', { href: '#/signin' }, 'Sign in')),
  );
}

// The answer is the same for any address, so the form cannot tell who has an account.
export function forgotForm(root) {
  const err = errorBox();
  const sent = h('p', { class: 'banner', role: 'status', hidden: true });
  const form = h(
    'form',
    {},
    field('email', 'Email', { type: 'email', autocomplete: 'username', value: session.user?.email || '' }),
    err,
    submitRow('Send me a link'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const answer = await api.post('/auth/password/forgot', { email: form.email.value.trim() });
      err.hidden = true;
      form.hidden = true;
      sent.textContent =
        answer?.message || 'If an account exists for that address, we have sent a link to reset its password.';
      sent.hidden = false;
    } catch (e) {
      showError(err, e);
    }
  });
  mount(
    root,
    pageTitle('Forgot your password?'),
    h('p', { class: 'muted' }, 'Enter the email you signed up with. We will send a link to choose a new password.'),
    form,
    sent,
    backToSignIn(),
  );
}

// #/reset/<token>: the link from the password-reset mail.
export function render(root, [token]) {
  const err = errorBox();
  const form = h(
    'form',
    {},
    field('password', 'New password', NEW_PASSWORD, AT_LEAST),
    err,
    submitRow('Change password'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api.post('/auth/password/reset', { token, password: form.password.value });
      // every session of the account has ended, this device's too
      if (session.user) markExpired();
      flash('Your password is changed. Sign in with the new one.');
      navigate('signin');
    } catch (e) {
      if (!e.errors?.token) return showError(err, e);
      err.hidden = false;
      err.replaceChildren(`${e.errors.token.join(' ')} `, h('a', { href: '#/signin/forgot' }, 'Ask for a new link'));
    }
  });
  mount(root, pageTitle('Choose a new password'), form, backToSignIn());
}

const INVITE_GONE = 'This invitation has expired or was already used. Ask your clinic’s administrator for a new one.';

// #/signin/therapist/<token>: the operator's invitation, mailed to a therapist.
export async function therapistForm(root, token) {
  const title = pageTitle('Join Between as a therapist');
  let invite = null;
  const err = errorBox();
  try {
    if (token) invite = await api.get(`/auth/therapist-invites/${encodeURIComponent(token)}`);
  } catch (e) {
    if (e.status !== 404) {
      showError(err, e);
      return mount(root, title, err, backToSignIn());
    }
  }
  if (!invite) return mount(root, title, h('p', { class: 'error', role: 'alert' }, INVITE_GONE), backToSignIn());
  const form = h(
    'form',
    {},
    field(
      'display_name',
      'Your name',
      { type: 'text', autocomplete: 'name', value: invite.display_name || '' },
      'As your patients will see it.',
    ),
    field(
      'email',
      'Email',
      { type: 'email', autocomplete: 'username', value: invite.email, readonly: true },
      'The address your invitation was sent to.',
    ),
    field('password', 'Password', NEW_PASSWORD, AT_LEAST),
    err,
    submitRow('Create my account'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!(await mayReplace(invite.email))) return;
    try {
      await register({
        display_name: form.display_name.value.trim(),
        email: invite.email,
        password: form.password.value,
        role: 'therapist',
        therapist_invite: token,
      });
      navigate('caseload');
    } catch (e) {
      if (e.status === 404 || e.errors?.therapist_invite) err.replaceChildren(INVITE_GONE);
      else showError(err, e);
      err.hidden = false;
    }
  });
  mount(
    root,
    title,
    h('p', { class: 'muted' }, 'Your clinic invited you to see what your patients choose to share between sessions.'),
    form,
    backToSignIn(),
  );
}
