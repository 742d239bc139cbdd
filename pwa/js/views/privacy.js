// Privacy: export, who has seen what, devices, sign out (warns of unsent changes,
// then wipes this device's copy), delete my account.

import * as api from '../api.js';
import { navigate } from '../nav.js';
import { pendingCount } from '../outbox.js';
import { session, signOut } from '../session.js';
import { syncNow } from '../sync.js';
import { confirmSheet, fmtDateTime, h, mount, pageTitle, sheet, swap, toast } from '../ui.js';

// What others did, in words. Every object_type the server records (grep server/ for
// audit.record): [one, several (n), a list read that held none].
const ACTION_WORDS = {
  read: 'looked at',
  write: 'changed',
  share: 'shared',
  unshare: 'stopped sharing',
  export: 'exported',
  acknowledge: 'acknowledged',
  delete: 'deleted',
  sign_in_second_factor: 'tried a sign-in code for',
};
const OBJECT_WORDS = {
  journal_entry: ['an entry', (n) => `${n} entries`, 'your shared entries'],
  journal_prompt: ['a journal prompt for you', (n) => `${n} journal prompts for you`],
  checkin: ['a check-in', (n) => `${n} check-ins`, 'your check-ins'],
  checkin_trend: ['your check-in trends'],
  risk_flag: ['a safety answer', (n) => `${n} safety answers`, 'your safety answers'],
  plan: ['your plan'],
  parts_map: ['your parts map'],
  brief: ['your pre-session brief'],
  caseload: ['their list of patients, which includes you'],
  treatment_session: [
    'a session on your timeline',
    (n) => `${n} sessions on your timeline`,
    'the sessions on your timeline',
  ],
  user: ['your account'],
  account: ['your account'],
};
// where "<verb> <object>" reads badly
const PHRASES = {
  'write journal_prompt': 'sent you a journal prompt',
  'write treatment_session': 'added or changed a session on your timeline',
};

export function describeEvent(e) {
  const phrase = PHRASES[`${e.action} ${e.object_type}`];
  if (phrase) return phrase;
  const [one, several = () => one, none = one] = OBJECT_WORDS[e.object_type] || ['something of yours'];
  const n = e.object_ids?.length || 0;
  const what = n > 1 ? several(n) : n === 1 ? one : none;
  return `${ACTION_WORDS[e.action] || 'did something with'} ${what}`;
}

function download(name, text, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function exportData() {
  try {
    const doc = await api.get('/me/export');
    download(`between-export-${new Date().toISOString().slice(0, 10)}.json`, JSON.stringify(doc, null, 2));
    toast('Your data was downloaded');
  } catch (err) {
    toast(err instanceof api.NetworkError ? 'Connect to export your data' : err.message);
  }
}

// My PHQ-9 and GAD-7 answers and scores as FHIR R4, for a clinic's records system.
async function exportFhir() {
  try {
    const bundle = await api.get('/me/fhir');
    const day = new Date().toISOString().slice(0, 10);
    download(`between-scores-fhir-${day}.json`, JSON.stringify(bundle, null, 2), 'application/fhir+json');
    toast('Your scores were downloaded');
  } catch (err) {
    toast(err instanceof api.NetworkError ? 'Connect to export your data' : err.message);
  }
}

// First match wins: Samsung Internet and Edge also say "Chrome", Chrome says "Safari",
// Chrome and Firefox on iOS say CriOS and FxiOS, Android says "Linux", iOS "Mac OS X".
const BROWSERS = [
  [/SamsungBrowser\//, 'Samsung Internet'],
  [/Edg(A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/Chrome\/|CriOS\/|Chromium\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];
const SYSTEMS = [
  [/Android/, 'Android'],
  [/iPad/, 'iPad'],
  [/iPhone|iPod/, 'iPhone'],
  [/CrOS/, 'ChromeOS'],
  [/Windows/, 'Windows'],
  [/Macintosh|Mac OS X/, 'macOS'],
  [/Linux/, 'Linux'],
];
const first = (table, ua) => table.find(([re]) => re.test(ua))?.[1];

export function describeDevice(ua = '') {
  const browser = first(BROWSERS, ua || '');
  const os = first(SYSTEMS, ua || '');
  if (browser && os) return `${browser} on ${os}`;
  if (os) return `A browser on ${os}`;
  return browser || 'An unknown browser';
}

// A card that needs the server: filled now if online, else when the network returns.
function onlineSection(title, id, load) {
  const heading = h('h2', { id }, title);
  const card = h('section', { class: 'card', 'aria-labelledby': id }, heading);
  let loaded = false;
  const fill = async () => {
    if (loaded) return;
    if (!navigator.onLine) {
      swap(card, heading, h('p', { class: 'muted' }, 'Connect to see this.'));
      return;
    }
    try {
      const body = await load();
      loaded = true;
      swap(card, heading, body);
    } catch {
      swap(card, heading, h('p', { class: 'muted' }, 'Could not load this just now.'));
    }
  };
  return { card, fill };
}

const accessLog = () =>
  onlineSection('Who has seen my data', 'access-title', async () => {
    const { events } = await api.get('/me/access-log?limit=50');
    const others = events.filter((e) => e.actor_role !== 'patient');
    if (!others.length) return h('p', { class: 'muted' }, 'Nobody else has looked at anything of yours.');
    return h(
      'ul',
      { class: 'list', id: 'access-log' },
      others.map((e) =>
        h(
          'li',
          {},
          h('strong', {}, e.actor_name || 'Someone'),
          e.actor_role === 'therapist' ? ' (therapist) ' : ' ',
          describeEvent(e),
          e.outcome && e.outcome !== 'ok' ? ' (refused)' : '',
          h('br'),
          h('span', { class: 'muted small' }, fmtDateTime(e.at)),
        ),
      ),
    );
  });

async function signOutDevice(event, row) {
  try {
    await api.del(`/auth/sessions/${row.id}`);
  } catch (err) {
    toast(err instanceof api.NetworkError ? 'Connect to sign that device out' : err.message);
    return;
  }
  event.target.closest('li').remove();
  toast('That device is signed out');
}

const devices = () =>
  onlineSection('Signed-in devices', 'devices-title', async () => {
    const rows = await api.get('/auth/sessions');
    rows.sort((a, b) => Number(b.current) - Number(a.current)); // this device first
    return h(
      'ul',
      { class: 'list', id: 'devices' },
      rows.map((r) =>
        h(
          'li',
          { class: 'check' },
          h(
            'span',
            {},
            h('strong', {}, describeDevice(r.user_agent)),
            r.current && h('span', { class: 'muted' }, ' · This device'),
            h('br'),
            h('span', { class: 'muted small' }, `Last used ${fmtDateTime(r.last_seen_at || r.created_at)}`),
          ),
          !r.current && h('button', { type: 'button', class: 'link', onclick: (e) => signOutDevice(e, r) }, 'Sign out'),
        ),
      ),
    );
  });

// How many changes have not reached the server, after one try to send them.
async function unsentChanges() {
  let unsent = await pendingCount();
  if (unsent && navigator.onLine && !session.expired) {
    await syncNow();
    unsent = await pendingCount();
  }
  return unsent;
}

const changesHave = (n) => `${n} ${n === 1 ? 'change has' : 'changes have'}`;

async function doSignOut() {
  const unsent = await unsentChanges();
  if (unsent) {
    const ok = await confirmSheet(
      'Some changes are not sent yet',
      `${changesHave(unsent)} not reached the server. Signing out removes everything from this device, and ` +
        `${unsent === 1 ? 'it' : 'they'} will be lost. Connect and wait for “All synced” to keep ` +
        `${unsent === 1 ? 'it' : 'them'}.`,
      'Sign out and lose them',
      { danger: true },
    );
    if (!ok) return;
  } else if (
    !(await confirmSheet(
      'Sign out?',
      'Everything Between keeps on this device will be removed from it. It stays safe on the server.',
      'Sign out',
    ))
  )
    return;
  await signOut();
  navigate('signin');
}

// The password sheet stays open on a wrong password (or no network) so the patient can
// try again: its own form does the deleting, and closes the sheet only once it is done.
async function confirmDeletion() {
  const password = h('input', {
    type: 'password',
    id: 'delete-password',
    autocomplete: 'current-password',
    required: true,
    'aria-describedby': 'delete-error',
  });
  const error = h('p', { class: 'field-error', id: 'delete-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'danger primary' }, 'Delete everything');
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        submit.disabled = true;
        try {
          await api.del('/me', { password: password.value });
          form.closest('dialog').close('deleted');
        } catch (err) {
          error.textContent =
            err instanceof api.NetworkError
              ? 'Connect to delete your account.'
              : err.errors?.password?.join(' ') || err.message;
          error.hidden = false;
          password.setAttribute('aria-invalid', 'true');
          password.select();
          password.focus();
        } finally {
          submit.disabled = false;
        }
      },
    },
    h(
      'p',
      {},
      'This deletes your account and everything in it: entries, check-ins, parts, plan. It cannot be undone. ' +
        'Export your data first if you want a copy.',
    ),
    h('label', { for: 'delete-password' }, 'Your password'),
    password,
    error,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', onclick: () => form.closest('dialog').close() }, 'Cancel'),
      submit,
    ),
  );
  return (await sheet('Delete my account', form, [])) === 'deleted';
}

async function deleteAccount() {
  const unsent = await unsentChanges();
  if (unsent) {
    const ok = await confirmSheet(
      'Some changes are not sent yet',
      `${changesHave(unsent)} not reached the server. Deleting your account deletes ` +
        `${unsent === 1 ? 'it' : 'them'} too, and ${unsent === 1 ? 'it' : 'they'} will not be in an export. ` +
        `To keep a copy, connect, wait for “All synced”, then export your data first.`,
      'Delete anyway',
      { danger: true },
    );
    if (!ok) return;
  }
  if (!(await confirmDeletion())) return;
  await signOut(); // wipes this device's copy too
  navigate('signin');
  toast('Your account was deleted');
}

export async function render(root) {
  const log = accessLog();
  const devs = devices();
  await Promise.all([log.fill(), devs.fill()]);
  mount(
    root,
    pageTitle('Privacy and my data'),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'export-title' },
      h('h2', { id: 'export-title' }, 'Take my data with me'),
      h('p', {}, 'Everything you have in Between, as a file.'),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'primary', onclick: exportData }, 'Export my data'),
        h(
          'a',
          { class: 'button', href: '/api/v1/me/export?format=html', target: '_blank', rel: 'noopener' },
          'Printable version',
        ),
      ),
      h(
        'p',
        { class: 'small' },
        'For your clinic’s records system: your PHQ-9 and GAD-7 answers and scores, ' +
          'in the FHIR standard. It holds none of your written words.',
      ),
      h('button', { type: 'button', id: 'export-fhir', onclick: exportFhir }, 'Download my scores (FHIR)'),
    ),
    log.card,
    devs.card,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'signout-title' },
      h('h2', { id: 'signout-title' }, 'Sign out'),
      h('p', {}, 'Signing out removes your entries and everything else from this device.'),
      h('button', { type: 'button', onclick: doSignOut }, 'Sign out'),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'delete-title' },
      h('h2', { id: 'delete-title' }, 'Delete my account'),
      h('button', { type: 'button', class: 'danger', onclick: deleteAccount }, 'Delete my account'),
    ),
  );
  // "Connect to see this." gives way to the real thing when the network returns
  const onOnline = () => Promise.all([log.fill(), devs.fill()]);
  window.addEventListener('online', onOnline);
  return () => window.removeEventListener('online', onOnline);
}
