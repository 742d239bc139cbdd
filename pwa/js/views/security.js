// Two-factor sign-in: optional for a patient (More → Security), an Account screen for a
// therapist, and the only screen a therapist sees while the clinic requires it and it is
// still off. It needs the network, so it is not in the precached shell.
//
// off → set up (QR code, the key as text, a code) → recovery codes, shown once → on
// on → new recovery codes (password) · turn off (password, then a confirmation)
//
// Passkeys, below it: add one (a name and the password again), see each with when it
// was last used, rename, remove. A passkey counts as two factors, so a therapist whose
// clinic requires two-factor sign-in may set one up here instead of an authenticator app.

import * as api from '../api.js';
import { refreshUser, session } from '../session.js';
import { confirmSheet, fmtDateTime, h, mount, offlineTryAgain, pageTitle, swap, toast } from '../ui.js';
import { cancelled, createPasskey, passkeysSupported } from '../webauthn.js';
import { errorBox } from './forms.js';

// the field's own words ("That code is not right.") rather than "code: …"
function problem(err) {
  if (err instanceof api.NetworkError) return offlineTryAgain();
  const words = Object.values(err.errors || {})
    .flat()
    .filter((w) => typeof w === 'string');
  return words.length ? words.join(' ') : err.message;
}

function fail(box, err) {
  box.textContent = problem(err);
  box.hidden = false;
}

function copy(text, what) {
  navigator.clipboard
    ?.writeText(text)
    .then(() => toast(`${what} copied`))
    .catch(() => toast('Could not copy. Select the text and copy it instead.'));
}

// the card's heading takes focus, so a screen reader hears the new step
function show(body, ...children) {
  swap(body, ...children);
  body.querySelector('h2')?.focus({ preventScroll: false });
}

const heading = (text) => h('h2', { tabindex: '-1' }, text);
const button = (label, onclick, cls = '') => h('button', { type: 'button', class: cls, onclick }, label);
// a form's own buttons: its submit, and Cancel, which closes the slot it opened in
const formButtons = (ok, slot, cls = 'primary') =>
  h(
    'div',
    { class: 'actions' },
    h('button', { type: 'submit', class: cls }, ok),
    button('Cancel', () => slot.replaceChildren()),
  );

export async function render(root, _params, { required = false, done = null } = {}) {
  const body = h('div', { class: 'security' });
  mount(
    root,
    pageTitle(required ? 'Set up two-factor sign-in' : 'Security'),
    required &&
      h(
        'p',
        { class: 'banner attention' },
        'Your clinic requires two-factor sign-in. Set it up to reach your caseload.',
      ),
    body,
  );
  const ctx = { body, required, done };
  // the screen is shown at once and its card once the server has said what is on: a
  // button from a copy of the user that is about to change would be pressed in vain
  fill(ctx);
}

async function fill(ctx) {
  const { body, required, done } = ctx;
  let user = session.user;
  try {
    user = await refreshUser();
  } catch (e) {
    if (e instanceof api.NetworkError)
      return void mount(body, h('p', { class: 'error', role: 'alert' }, offlineTryAgain()));
  }
  if (required && setUp2fa(user)) return void done?.();
  swap(body, user?.totp_enabled ? onCard(ctx) : offCard(ctx), passkeysSupported() && passkeysCard(ctx));
}

// an authenticator app, or a passkey (the server's totp_required is off once one is there)
const setUp2fa = (user) => Boolean(user?.totp_enabled || (user && !user.totp_required));

function offCard(ctx) {
  const err = errorBox();
  const start = async (event) => {
    event.target.disabled = true;
    try {
      setUp(ctx, await api.post('/auth/totp/setup'));
    } catch (e) {
      event.target.disabled = false;
      if (e.status !== 409) return fail(err, e);
      await refreshUser().catch(() => {}); // already on, from another device
      if (ctx.required) ctx.done?.();
      else show(ctx.body, onCard(ctx));
    }
  };
  return h(
    'section',
    { class: 'card' },
    heading('Two-factor sign-in is off'),
    h(
      'p',
      {},
      'With it on, signing in takes your password and a code from an authenticator app on your phone, so a ' +
        'password alone is not enough for someone else to get in.',
    ),
    err,
    h('div', { class: 'actions' }, button('Set up two-factor sign-in', start, 'primary')),
  );
}

function setUp(ctx, { secret, qr_svg_data_uri: qr }) {
  const err = errorBox();
  const form = h(
    'form',
    { class: 'card' },
    heading('1. Add Between to your authenticator app'),
    h(
      'p',
      {},
      'Scan this QR code with an authenticator app, such as Google Authenticator, Microsoft Authenticator or ' +
        '1Password.',
    ),
    h('img', {
      class: 'qr',
      src: qr,
      alt: 'QR code that adds Between to an authenticator app',
      width: 200,
      height: 200,
    }),
    h('p', { id: 'secret-label' }, 'Cannot scan it? Type this key into the app instead:'),
    h(
      'p',
      { class: 'secret-row' },
      h(
        'code',
        { class: 'secret', id: 'totp-secret', 'aria-labelledby': 'secret-label' },
        secret.match(/.{1,4}/g).join(' '),
      ),
      button('Copy key', () => copy(secret, 'Key')),
    ),
    h('h3', {}, '2. Enter the code the app shows'),
    h(
      'label',
      { for: 'totp-code' },
      '6-digit code',
      h('span', { class: 'hint' }, 'A new code appears every 30 seconds.'),
    ),
    h('input', {
      id: 'totp-code',
      name: 'code',
      type: 'text',
      inputmode: 'numeric',
      autocomplete: 'one-time-code',
      pattern: '[0-9 ]{6,7}',
      required: true,
    }),
    err,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Turn on'),
      button('Cancel', () => show(ctx.body, offCard(ctx))),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const { recovery_codes: codes } = await api.post('/auth/totp/enable', {
        code: form.code.value.replace(/\s/g, ''),
      });
      await refreshUser().catch(() => {}); // the device's copy says it is on
      show(ctx.body, codesCard(ctx, codes, 'Two-factor sign-in is on'));
    } catch (e) {
      fail(err, e);
      form.code.select();
    }
  });
  show(ctx.body, form);
}

function codesCard(ctx, codes, title) {
  const print = () => {
    document.body.classList.add('print-codes');
    window.print();
    document.body.classList.remove('print-codes');
  };
  const finish = () => (ctx.required ? ctx.done?.() : show(ctx.body, onCard(ctx)));
  return h(
    'section',
    { class: 'card recovery-codes' },
    heading(title),
    h(
      'p',
      { class: 'notice' },
      h('strong', {}, 'Save these recovery codes now; they will not be shown again.'),
      ' Each one signs you in once if you lose your phone. Keep them somewhere safe, apart from your password.',
    ),
    h(
      'ol',
      { class: 'codes', id: 'recovery-codes' },
      codes.map((c) => h('li', {}, h('code', {}, c))),
    ),
    h(
      'div',
      { class: 'actions' },
      button('Copy codes', () => copy(codes.join('\n'), 'Recovery codes')),
      button('Print', print),
      button('Done', finish, 'primary'),
    ),
  );
}

function onCard(ctx) {
  const slot = h('div', {});
  const locked = session.user?.totp_required;
  return h(
    'section',
    { class: 'card' },
    heading('Two-factor sign-in is on'),
    h('p', {}, 'Signing in takes your password and a code from your authenticator app, or one of your recovery codes.'),
    locked && h('p', { class: 'muted' }, 'Your clinic requires it, so it stays on.'),
    h(
      'div',
      { class: 'actions' },
      button('Make new recovery codes', () => swap(slot, passwordForm(ctx, 'codes', slot))),
      !locked && button('Turn off two-factor', () => swap(slot, passwordForm(ctx, 'off', slot)), 'danger'),
    ),
    slot,
  );
}

const ASKS = {
  codes: {
    label: 'Your password, to make new recovery codes',
    hint: 'The codes you have now will stop working.',
    ok: 'Make new codes',
    cls: 'primary',
  },
  off: { label: 'Your password, to turn two-factor sign-in off', hint: null, ok: 'Turn off', cls: 'danger primary' },
};

function passwordForm(ctx, kind, slot) {
  const ask = ASKS[kind];
  const err = errorBox();
  const form = h(
    'form',
    {},
    h('label', { for: 'confirm-password' }, ask.label, ask.hint && h('span', { class: 'hint' }, ask.hint)),
    h('input', {
      id: 'confirm-password',
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
    }),
    err,
    formButtons(ask.ok, slot, ask.cls),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const password = form.password.value;
    try {
      if (kind === 'codes') {
        const { recovery_codes: codes } = await api.post('/auth/totp/recovery-codes', { password });
        show(ctx.body, codesCard(ctx, codes, 'New recovery codes'));
        return;
      }
      const sure = await confirmSheet(
        'Turn off two-factor sign-in?',
        'Signing in will take only your password again, and your recovery codes will stop working.',
        'Turn off',
        { danger: true },
      );
      if (!sure) return;
      await api.post('/auth/totp/disable', { password });
      await refreshUser().catch(() => {});
      toast('Two-factor sign-in is off');
      show(ctx.body, offCard(ctx));
    } catch (e) {
      fail(err, e);
    }
  });
  queueMicrotask(() => form.password.focus());
  return form;
}

// -- passkeys -----------------------------------------------------------------------------

function passkeysCard(ctx) {
  const list = h('ul', { class: 'list passkeys', id: 'passkey-list', 'aria-live': 'polite' });
  const slot = h('div', {});
  const err = errorBox();
  const card = h(
    'section',
    { class: 'card', id: 'passkeys' },
    heading('Passkeys'),
    h(
      'p',
      {},
      ctx.required
        ? 'Or add a passkey: it signs you in with this device’s screen lock (fingerprint, face or PIN) and ' +
            'counts as both steps of two-factor sign-in.'
        : 'A passkey signs you in with this device’s screen lock (fingerprint, face or PIN) instead of typing ' +
            'your password. Your password keeps working.',
    ),
    list,
    err,
    h(
      'div',
      { class: 'actions' },
      button(
        'Add a passkey',
        () =>
          swap(
            slot,
            addForm(ctx, slot, () => load()),
          ),
        ctx.required ? 'primary' : '',
      ),
    ),
    slot,
  );
  const load = async () => {
    try {
      const keys = await api.get('/auth/passkeys');
      swap(
        list,
        keys.length ? keys.map((key) => passkeyItem(key, load, err)) : h('li', { class: 'muted' }, 'No passkeys yet.'),
      );
    } catch (e) {
      fail(err, e);
    }
  };
  load();
  return card;
}

// a screen reader hears which passkey a Rename or Remove is for
function labelled(el, label) {
  el.setAttribute('aria-label', label);
  return el;
}

function passkeyItem(key, reload, err) {
  const slot = h('div', {});
  const used = key.last_used_at ? `Last used ${fmtDateTime(key.last_used_at)}` : 'Not used yet';
  const remove = async () => {
    const sure = await confirmSheet(
      `Remove “${key.name}”?`,
      'It will no longer sign you in. Your password and other passkeys keep working.',
      'Remove',
      { danger: true },
    );
    if (!sure) return;
    try {
      await api.del(`/auth/passkeys/${key.id}`);
      toast('Passkey removed');
      reload();
    } catch (e) {
      fail(err, e);
    }
  };
  return h(
    'li',
    { class: 'passkey' },
    h('strong', { class: 'passkey-name' }, h('bdi', {}, key.name)),
    h('span', { class: 'hint' }, `Added ${fmtDateTime(key.created_at)} · ${used}`),
    h(
      'div',
      { class: 'actions' },
      labelled(
        button('Rename', () => swap(slot, renameForm(key, slot, reload)), 'link'),
        `Rename ${key.name}`,
      ),
      labelled(button('Remove', remove, 'link danger'), `Remove ${key.name}`),
    ),
    slot,
  );
}

const nameInput = (value = '') =>
  h('input', {
    id: 'passkey-name',
    name: 'name',
    type: 'text',
    maxlength: 60,
    required: true,
    value,
    autocomplete: 'off',
  });

function renameForm(key, slot, reload) {
  const err = errorBox();
  const form = h(
    'form',
    {},
    h('label', { for: 'passkey-name' }, 'New name'),
    nameInput(key.name),
    err,
    formButtons('Save name', slot),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api.request('PATCH', `/auth/passkeys/${key.id}`, { name: form.name.value.trim() });
      reload();
    } catch (e) {
      fail(err, e);
    }
  });
  queueMicrotask(() => form.name.select());
  return form;
}

// a name that says which device it is, then the password again: an open session on a
// borrowed phone is not enough to give someone a passkey of their own
function addForm(ctx, slot, reload) {
  const err = errorBox();
  const form = h(
    'form',
    {},
    h(
      'label',
      { for: 'passkey-name' },
      'Name for this passkey',
      h('span', { class: 'hint' }, 'Which device it is on, such as “My phone”.'),
    ),
    nameInput(),
    h('label', { for: 'passkey-password' }, 'Your password, to add a passkey'),
    h('input', {
      id: 'passkey-password',
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
    }),
    err,
    formButtons('Add passkey', slot),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      const { options } = await api.post('/auth/passkeys/options', { password: form.password.value });
      const credential = await createPasskey(options);
      await api.post('/auth/passkeys', { name: form.name.value.trim(), credential });
      slot.replaceChildren();
      toast('Passkey added');
      const user = await refreshUser().catch(() => null);
      if (ctx.required && setUp2fa(user)) return void ctx.done?.();
      reload();
    } catch (e) {
      if (cancelled(e)) err.hidden = true;
      else fail(err, e);
    } finally {
      submit.disabled = false;
    }
  });
  queueMicrotask(() => form.name.focus());
  return form;
}
