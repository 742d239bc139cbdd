// Privacy: export, who has seen what, devices, sign out (warns of unsent changes,
// then wipes this device's copy), delete my account.

import * as api from '../api.js';
import { pendingCount } from '../outbox.js';
import { navigate } from '../router.js';
import { session, signOut } from '../session.js';
import { syncNow } from '../sync.js';
import { confirmSheet, fmtDateTime, h, mount, pageTitle, sheet, toast } from '../ui.js';

const ACTION_WORDS = { read: 'read', write: 'changed', share: 'shared', unshare: 'stopped sharing', export: 'exported', acknowledge: 'acknowledged', delete: 'deleted' };
const OBJECT_WORDS = { journal_entry: 'journal entries', checkin: 'check-ins', checkin_trend: 'check-in trends', plan: 'plan', parts_map: 'parts map', part: 'parts', risk_flag: 'safety answers', brief: 'pre-session brief', journal_prompt: 'journal prompts' };

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = h('a', { href: url, download: name });
  document.mount(body, a);
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

function describeDevice(ua = '') {
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrome\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'A browser';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? `${browser} on ${os}` : browser;
}

async function onlineSection(title, id, load) {
  const card = h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title));
  if (!navigator.onLine) {
    mount(card, h('p', { class: 'muted' }, 'Connect to see this.'));
    return card;
  }
  try {
    mount(card, await load());
  } catch {
    mount(card, h('p', { class: 'muted' }, 'Could not load this just now.'));
  }
  return card;
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
        h('li', {}, h('strong', {}, e.actor_name || 'Someone'), ` (${e.actor_role}) ${ACTION_WORDS[e.action] || e.action} ${e.object_ids?.length > 1 ? `${e.object_ids.length} ` : ''}${OBJECT_WORDS[e.object_type] || e.object_type}`, h('br'), h('span', { class: 'muted small' }, fmtDateTime(e.at))),
      ),
    );
  });

const devices = () =>
  onlineSection('Signed-in devices', 'devices-title', async () => {
    const rows = await api.get('/auth/sessions');
    return h(
      'ul',
      { class: 'list', id: 'devices' },
      rows.map((r) =>
        h(
          'li',
          { class: 'check' },
          h('span', {}, h('strong', {}, describeDevice(r.user_agent)), r.current && ' (this device)', h('br'), h('span', { class: 'muted small' }, `Last used ${fmtDateTime(r.last_seen_at)}`)),
          !r.current &&
            h(
              'button',
              {
                type: 'button',
                class: 'link',
                onclick: async (e) => {
                  await api.del(`/auth/sessions/${r.id}`);
                  e.target.closest('li').remove();
                  toast('That device is signed out');
                },
              },
              'Sign out',
            ),
        ),
      ),
    );
  });

async function doSignOut() {
  let unsent = await pendingCount();
  if (unsent && navigator.onLine && !session.expired) {
    await syncNow();
    unsent = await pendingCount();
  }
  if (unsent) {
    const ok = await confirmSheet(
      'Some changes are not sent yet',
      `${unsent} ${unsent === 1 ? 'change has' : 'changes have'} not reached the server. Signing out removes everything from this device, and ${unsent === 1 ? 'it' : 'they'} will be lost. Connect and wait for “All synced” to keep ${unsent === 1 ? 'it' : 'them'}.`,
      'Sign out and lose them',
      { danger: true },
    );
    if (!ok) return;
  } else if (!(await confirmSheet('Sign out?', 'Everything Between keeps on this device will be removed from it. It stays safe on the server.', 'Sign out'))) return;
  await signOut();
  navigate('signin');
}

async function deleteAccount() {
  const password = h('input', { type: 'password', id: 'delete-password', autocomplete: 'current-password' });
  const answer = await sheet(
    'Delete my account',
    h('div', {}, h('p', {}, 'This deletes your account and everything in it: entries, check-ins, parts, plan. It cannot be undone. Export your data first if you want a copy.'), h('label', { for: 'delete-password' }, 'Your password'), password),
    [{ label: 'Cancel', value: 'no' }, { label: 'Delete everything', value: 'yes', class: 'danger primary' }],
  );
  if (answer !== 'yes') return;
  try {
    await api.del('/me', { password: password.value });
  } catch (err) {
    toast(err instanceof api.NetworkError ? 'Connect to delete your account' : err.message);
    return;
  }
  await signOut(); // wipes this device's copy too
  navigate('signin');
  toast('Your account was deleted');
}

export async function render(root) {
  const [log, devs] = await Promise.all([accessLog(), devices()]);
  mount(root, 
    pageTitle('Privacy and my data'),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'export-title' },
      h('h2', { id: 'export-title' }, 'Take my data with me'),
      h('p', {}, 'Everything you have in Between, as a file.'),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: exportData }, 'Export my data'), h('a', { class: 'button', href: '/api/v1/me/export?format=html', target: '_blank', rel: 'noopener' }, 'Printable version')),
    ),
    log,
    devs,
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
}
