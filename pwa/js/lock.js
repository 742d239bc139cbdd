// The app lock: a PIN (6 digits or more) that keeps Between closed and its device copy
// sealed. The records are sealed under a random data key (db.js); that key is stored
// only wrapped (AES-KW) by a key derived from the PIN (PBKDF2-SHA-256, a random salt,
// 600,000 rounds), and lives unwrapped in memory only while Between is unlocked.
// Wrong PINs cost more time each; after ten, this device's copy can only be erased.

import {
  LOCK,
  LOCKED_HELP,
  LOCK_TRIES,
  META,
  STORES,
  get,
  getMeta,
  isLocked,
  isSealing,
  remove,
  reseal,
  setMeta,
  useDataKey,
} from './db.js';

const ITERATIONS = 600_000;
export const MAX_TRIES = 10;
export const IDLE_CHOICES = [
  { label: 'Immediately when I leave Between', ms: 0 },
  { label: '1 minute', ms: 60_000 },
  { label: '5 minutes', ms: 5 * 60_000 },
  { label: '15 minutes', ms: 15 * 60_000 },
];
// "Immediately" locks on leaving the app; in the foreground, a minute without a touch
const FOREGROUND_FLOOR_MS = 60_000;

export const validPin = (pin) => /^\d{6,64}$/.test(pin);

// seconds to wait after `tries` wrong PINs in a row: none for a slip or two, then doubling
export const waitAfter = (tries) => (tries < 3 ? 0 : Math.min(5 * 2 ** (tries - 3), 600));

async function pinKey(pin, salt, iterations) {
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    base,
    { name: 'AES-KW', length: 256 },
    false,
    ['wrapKey', 'unwrapKey'],
  );
}

// The data key, or an error (AES-KW's integrity check fails on a wrong PIN).
async function unwrap(lock, pin) {
  const kek = await pinKey(pin, lock.salt, lock.iterations);
  return crypto.subtle.unwrapKey('raw', lock.wrapped, kek, 'AES-KW', 'AES-GCM', false, ['encrypt', 'decrypt']);
}

export const lockSettings = () => getMeta(LOCK);

export async function tries() {
  const state = await getMeta(LOCK_TRIES);
  return { count: state?.count || 0, until: state?.until || 0 };
}

// Turn the lock on: a new data key, wrapped by the PIN; everything on the device sealed.
// `signOutMs` (a therapist's device): the session's idle time, after which even a locked
// tab signs out, as the therapist's app would have.
export async function turnOn(pin, { idleMs = 5 * 60_000, showContacts = false, signOutMs = null } = {}) {
  if (!validPin(pin)) throw new Error('A PIN is 6 digits or more.');
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const kek = await pinKey(pin, salt, ITERATIONS);
  const fresh = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
  const wrapped = await crypto.subtle.wrapKey('raw', fresh, kek, 'AES-KW');
  // the key kept in memory cannot be exported: only its wrapped form ever leaves
  const key = await crypto.subtle.unwrapKey('raw', wrapped, kek, 'AES-KW', 'AES-GCM', false, ['encrypt', 'decrypt']);
  noteTouch(Date.now());
  await reseal(key, {
    salt,
    iterations: ITERATIONS,
    wrapped,
    idle_ms: idleMs,
    show_contacts: showContacts,
    sign_out_ms: signOutMs,
  });
  await setMeta(LOCK_TRIES, { count: 0, until: 0 });
  await refreshLockedHelp();
  tabs?.postMessage('on');
  watchIdle();
}

// Turn it off (the PIN again, so a borrowed unlocked phone cannot): everything opened.
export async function turnOff(pin) {
  const lock = await lockSettings();
  if (!lock) return true;
  try {
    await unwrap(lock, pin);
  } catch {
    return false;
  }
  await reseal(null, null);
  await remove(META, LOCKED_HELP);
  await remove(META, LOCK_TRIES);
  tabs?.postMessage('off');
  return true;
}

export async function saveSettings({ idleMs, showContacts }) {
  const lock = await lockSettings();
  await setMeta(LOCK, { ...lock, idle_ms: idleMs ?? lock.idle_ms, show_contacts: showContacts ?? lock.show_contacts });
  await refreshLockedHelp();
}

// { ok } or { ok: false, count, until }: the wrong-PIN count and the wait are kept on
// the device, so a reload does not reset them.
export async function unlock(pin) {
  const lock = await lockSettings();
  const now = await tries();
  if (now.count >= MAX_TRIES || Date.now() < now.until) return { ok: false, ...now };
  let key;
  try {
    key = await unwrap(lock, pin);
  } catch {
    const count = now.count + 1;
    const until = Date.now() + waitAfter(count) * 1000;
    await setMeta(LOCK_TRIES, { count, until });
    return { ok: false, count, until };
  }
  await setMeta(LOCK_TRIES, { count: 0, until: 0 });
  noteTouch(Date.now());
  useDataKey(key);
  return { ok: true };
}

// The Help now the lock screen shows: the crisis lines of the cached card and what to do
// in an emergency; the patient's own people (and own lines) only if they chose that.
// Kept unsealed, so it must hold nothing else.
export async function refreshLockedHelp() {
  if (!isSealing() || isLocked()) return;
  const lock = await lockSettings();
  const card = (await getMeta('crisis_card')) || {};
  const own = new Set();
  if (!lock?.show_contacts) {
    const user = await getMeta('user');
    const plan = user ? await get(STORES.plan, user.id) : null;
    for (const l of plan?.crisis_lines || []) own.add(l.name);
  }
  await setMeta(LOCKED_HELP, {
    region: card.region ?? null,
    emergency_number: card.emergency_number ?? null,
    emergency_words: card.emergency_words ?? null,
    crisis_lines: (card.crisis_lines || []).filter((l) => !own.has(l.name)),
    contacts: lock?.show_contacts ? card.contacts || [] : [],
  });
}

// Locking is a reload: the key and every word drawn from the device copy leave memory
// with the page, and the app opens again on the lock screen, at the same screen. Every
// other tab of Between follows (locked, or turned on or off, the device changed under it).
// Before that reload, what is being written is saved to the device (sealed, as every
// write is): the open journal editor registers its save here, so no keystroke is lost.
const beforeLock = new Set();
const FLUSH_MS = 3000; // a save that hangs must not keep the app open

export function onBeforeLock(save) {
  beforeLock.add(save);
  return () => beforeLock.delete(save);
}

let reloading = false;

async function saveThenReload() {
  if (reloading) return;
  reloading = true;
  const saves = Promise.allSettled([...beforeLock].map(async (save) => save()));
  await Promise.race([saves, new Promise((resolve) => setTimeout(resolve, FLUSH_MS))]);
  location.reload();
}

const tabs = 'BroadcastChannel' in self ? new BroadcastChannel('between-lock') : null;
if (tabs) tabs.onmessage = saveThenReload;

export function lockNow() {
  tabs?.postMessage('lock');
  return saveThenReload();
}

// The last touch, kept across the lock's reload (a number, in localStorage: nothing
// personal, and readable while locked), so a locked tab knows how long it was left.
const TOUCHED = 'between-touched-at';
let noted = 0;

function noteTouch(at) {
  if (at - noted < 1000) return;
  noted = at;
  try {
    localStorage.setItem(TOUCHED, String(at));
  } catch {
    // no storage: a locked tab then signs out at its first check, the safe way
  }
}

// Is it time to sign out though locked? Only on a device whose lock says when (a
// therapist's): the same idle time as the session, counted from the last touch.
export async function signOutDue() {
  const ms = (await lockSettings())?.sign_out_ms;
  if (!ms) return false;
  const at = Number(localStorage.getItem(TOUCHED)) || 0;
  return Date.now() - at >= ms;
}

let watching = false;

// Lock after the chosen time without a touch, or away from the app for that long.
export function watchIdle() {
  if (watching || !isSealing()) return;
  watching = true;
  let lastTouch = Date.now();
  let hiddenAt = null;
  const idle = async () => (await lockSettings())?.idle_ms ?? null;
  const touched = () => {
    lastTouch = Date.now();
    noteTouch(lastTouch);
  };
  for (const type of ['pointerdown', 'keydown', 'input', 'wheel']) {
    addEventListener(type, touched, { capture: true, passive: true });
  }
  document.addEventListener('visibilitychange', async () => {
    const now = Date.now(); // when it happened, not when the settings were read
    if (document.hidden) hiddenAt = now;
    const ms = await idle();
    if (ms == null) return;
    if (document.hidden) {
      if (ms === 0) lockNow();
    } else if (hiddenAt != null && now - hiddenAt >= ms) lockNow();
  });
  setInterval(async () => {
    const ms = await idle();
    if (ms != null && Date.now() - lastTouch >= (ms || FOREGROUND_FLOOR_MS)) lockNow();
  }, 5000);
}
