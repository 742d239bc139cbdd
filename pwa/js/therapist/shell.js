// The therapist's app: loaded by the router only when a therapist is signed in, so none
// of it is in the patient's shell. Owns the therapist's navigation, the idle timeout
// and a sign-out that leaves no patient data on the device.
//
// Idle timeout: the server ends a therapist's session after THERAPIST_IDLE_TIMEOUT
// (30 min by default) without a request. The app counts idle time from the last key
// press, click, touch or scroll, warns in the last minutes ("You'll be signed out in
// 2 minutes"), and signs out when it runs out. Activity after a quiet spell touches
// the server, so its clock and ours agree; a 401 (the server gave up first) signs out
// the same way.
//
// Two-factor: while the clinic requires it (REQUIRE_THERAPIST_TOTP: the user's
// totp_required) and it is still off, the server refuses patient data, so every route
// shows the set-up screen and the navigation offers only Sign out.

import { setUnauthorizedHandler } from '../api.js';
import { currentRoute, navigate } from '../nav.js';
import { markExpired, refreshUser, session, sessionEvents, signOut } from '../session.js';
import { h, mount, needsConnection, swap } from '../ui.js';
import { contact, get, names } from './common.js';

const IDLE_MS = 30 * 60 * 1000;
const WARN_MS = 2 * 60 * 1000;
const TICK_MS = 1000;
const TOUCH_AFTER_MS = 60 * 1000;
const ACTIVITY = ['pointerdown', 'keydown', 'wheel', 'touchstart'];

const ROUTES = {
  caseload: () => import('./caseload.js'),
  flags: () => import('./flags.js'),
  patient: () => import('./brief.js'),
  sessions: () => import('./sessions.js'),
  plan: () => import('./plan.js'),
  print: () => import('./brief.js'),
  // the screens both roles use: the router hands over their loaders (render's `shared`)
  security: () => shared.security(),
  // the app lock, on by default on a therapist's device: how soon it locks, Lock now
  'app-lock': () => shared.appLock(),
  // name, time zone, language, region
  settings: () => shared.settings(),
};

const mustSetUp = (user) => Boolean(user?.totp_required && !user.totp_enabled);

let shared = {};
let started = false;
let lastActive = Date.now();
let ticker = null;
let leaving = false;
let chrome = null; // { nav, warning, link }

function idleMs() {
  // the server may say how long it waits (seconds); 30 minutes otherwise
  const seconds = Number(session.user?.idle_timeout_seconds);
  return seconds > 0 ? seconds * 1000 : IDLE_MS;
}

// whole minutes, then "less than a minute": a live region that changed every second
// would talk over whatever the screen reader is reading
function inWords(ms) {
  if (ms < 60_000) return 'less than a minute';
  const minutes = Math.ceil(ms / 60_000);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

function onActivity() {
  lastActive = Date.now();
  if (chrome && !chrome.warning.hidden) chrome.warning.hidden = true;
  // the server counts requests, not key presses: tell it we are still here
  if (Date.now() - contact.at > TOUCH_AFTER_MS) get('/auth/me').catch(() => {});
}

function tick() {
  const left = idleMs() - (Date.now() - lastActive);
  if (left <= 0) {
    leave('idle');
    return;
  }
  const { warning } = chrome;
  if (left <= WARN_MS) {
    const text = `You'll be signed out in ${inWords(left)}`;
    const line = warning.querySelector('p');
    if (line.textContent !== text) line.textContent = text; // an unchanged live region stays quiet
    warning.hidden = false;
  } else if (!warning.hidden) {
    warning.hidden = true;
  }
}

function setUp() {
  if (started) return;
  started = true;
  leaving = false;
  lastActive = Date.now();
  document.body.classList.add('therapist');
  const link = h('link', { rel: 'stylesheet', href: '/css/therapist.css', id: 'therapist-css' });
  document.head.append(link);
  const signOutButton = h('button', { type: 'button', class: 'link', onclick: () => leave('chosen') }, 'Sign out');
  const nav = h(
    'nav',
    { class: 'tnav no-print', 'aria-label': 'Therapist' },
    h('a', { href: '#/caseload', 'data-route': 'caseload' }, 'Caseload'),
    h('a', { href: '#/flags', 'data-route': 'flags' }, 'Flags'),
    h('a', { href: '#/settings', 'data-route': 'settings' }, 'Settings'),
    h('a', { href: '#/security', 'data-route': 'security' }, 'Account'),
    h('a', { href: '#/app-lock', 'data-route': 'app-lock' }, 'App lock'),
    h('span', { class: 'who' }, session.user?.display_name || ''),
    signOutButton,
  );
  document.querySelector('.topbar').append(nav);
  const warning = h(
    'div',
    {
      class: 'banner attention idle-warning no-print',
      id: 'idle-warning',
      role: 'status',
      'aria-live': 'polite',
      hidden: true,
    },
    h('p', {}),
    h('button', { type: 'button', class: 'primary', onclick: onActivity }, 'Stay signed in'),
  );
  document.getElementById('banners').after(warning);
  chrome = { nav, warning, link };
  sessionEvents.addEventListener('change', showName);
  for (const name of ACTIVITY) window.addEventListener(name, onActivity, { passive: true, capture: true });
  ticker = setInterval(tick, TICK_MS);
  setUnauthorizedHandler(() => leave('expired'));
  // is the cookie still good? (a 401 here signs out through the handler above) The
  // fresh copy may also say two-factor became required, or was turned on elsewhere.
  const wasLocked = mustSetUp(session.user);
  refreshUser()
    .then((me) => {
      contact.at = Date.now();
      if (started && mustSetUp(me) !== wasLocked) navigate(location.hash);
    })
    .catch(() => {});
  return new Promise((resolve) => {
    link.addEventListener('load', resolve, { once: true });
    link.addEventListener('error', resolve, { once: true });
  });
}

// a name changed in Settings shows in the navigation at once
function showName() {
  const who = chrome?.nav.querySelector('.who');
  if (who) who.textContent = session.user?.display_name || '';
}

function tearDown() {
  started = false;
  sessionEvents.removeEventListener('change', showName);
  clearInterval(ticker);
  for (const name of ACTIVITY) window.removeEventListener(name, onActivity, { capture: true });
  setUnauthorizedHandler(markExpired);
  document.body.classList.remove('therapist');
  if (chrome) {
    chrome.nav.remove();
    chrome.warning.remove();
    chrome.link.remove();
  }
  chrome = null;
}

const LEFT_WORDS = {
  idle: 'You were signed out after a while without activity. Nothing about your patients is kept on this device.',
  expired: 'Your sign-in has ended. Nothing about your patients is kept on this device.',
  chosen: 'Signed out. Nothing about your patients is kept on this device.',
};

// Sign out and wipe: the screen, this module's state, IndexedDB (session.signOut).
export async function leave(why) {
  if (leaving) return;
  leaving = true;
  document.getElementById('main').replaceChildren();
  names.clear();
  tearDown();
  await signOut(); // ends the server session (when it still exists) and wipes the device
  const banners = document.getElementById('banners');
  mount(banners, h('div', { class: 'banner', id: 'signed-out-banner', role: 'status' }, h('p', {}, LEFT_WORDS[why])));
}

export function parseHash(hash = location.hash) {
  // a query (#/patient/<id>?since=…, #/caseload?sort=…) is the screen's own to read
  const { name, params } = currentRoute(hash);
  if (name === 'patient' && params[1] && ROUTES[params[1]]) return { route: params[1], params: [params[0]] };
  if (ROUTES[name]) return { route: name, params };
  return { route: 'caseload', params: [] };
}

// The shell reads its own routes (parseHash), not the router's parameters; `screens`
// are the router's loaders of the screens both roles use.
export async function render(root, _params, screens) {
  shared = screens;
  await setUp();
  const locked = mustSetUp(session.user);
  const { route, params } = locked ? { route: 'security', params: [] } : parseHash();
  if (route === 'caseload' && !/^#\/caseload/.test(location.hash)) history.replaceState(null, '', '#/caseload');
  for (const a of chrome.nav.querySelectorAll('a')) {
    a.hidden = locked;
    const own =
      a.dataset.route === route ||
      (!['flags', 'security', 'app-lock', 'settings'].includes(route) && a.dataset.route === 'caseload');
    if (own) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  let mod;
  try {
    mod = await ROUTES[route]();
  } catch {
    swap(root, h('h1', { tabindex: '-1' }, 'Offline'), h('p', {}, needsConnection()));
    return null;
  }
  if (locked) return mod.render(root, params, { required: true, done: () => navigate('caseload') });
  return route === 'print' ? mod.renderPrint(root, params) : mod.render(root, params);
}
