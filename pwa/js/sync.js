// The sync loop: push the outbox, pull after our cursor, refresh what Help now and the
// check-ins need offline. Runs on start, `online`, sign-in, a change, every few
// minutes while open, and on a Background Sync from the service worker.

import * as api from './api.js';
import { META, OUTBOX, STORES, getMeta, isLocked, setMeta, tx } from './db.js';
import { applyResults, outboxCounts, outboxEvents, storeChange, takeBatch, toWire } from './outbox.js';
import { rememberCareTeam } from './care-words.js';
import { currentLanguage } from './i18n.js';
import { refreshLockedHelp } from './lock.js';

const INTERVAL_MS = 3 * 60 * 1000;
const AFTER_CHANGE_MS = 600;
const PAGE = 200;

export const syncEvents = new EventTarget();
export const status = { phase: 'idle', pending: 0, attention: 0, lastSyncedAt: null };

let running = null;
let again = false;
let debounce = null;
let enabled = false;

const emit = (name) => syncEvents.dispatchEvent(new Event(name));

async function setPhase(phase) {
  status.phase = phase;
  Object.assign(status, await outboxCounts());
  emit('status');
}

export function syncNow() {
  // locked: nothing can be read to send, or sealed to keep; it resumes after unlocking
  if (!enabled || isLocked()) return Promise.resolve();
  if (running) {
    again = true;
    return running;
  }
  running = run().finally(() => {
    running = null;
    if (again) {
      again = false;
      syncNow();
    }
  });
  return running;
}

async function run() {
  if (!navigator.onLine) return setPhase('offline');
  await setPhase('syncing');
  try {
    await pushAll();
    await pullAll();
    await refreshExtras();
    status.lastSyncedAt = new Date().toISOString();
    await setMeta('last_synced_at', status.lastSyncedAt);
    await setPhase('idle');
  } catch (err) {
    if (err instanceof api.ApiError && err.status === 401) await setPhase('expired');
    else await setPhase(navigator.onLine ? 'error' : 'offline');
  }
  emit('change');
}

async function pushAll() {
  for (let round = 0; round < 100; round += 1) {
    const batch = await takeBatch();
    if (!batch.length) return;
    const { results } = await api.post('/sync/push', { ops: batch.map(toWire) });
    const conflicts = await applyResults(batch, results);
    for (const res of conflicts) {
      if (res.type === 'plan' && res.conflict_revision) await setMeta('plan_conflict', res.conflict_revision);
      // remember which conflict copies hold this device's words ("mine")
      if (res.conflict_copy_id)
        await setMeta('my_conflict_copies', [...(await getMeta('my_conflict_copies', [])), res.conflict_copy_id]);
    }
    emit('change');
  }
}

async function storeChanges(changes, cursor) {
  const stores = Object.values(STORES);
  await tx([OUTBOX, META, ...stores], 'readwrite', async (s) => {
    // an object with a change in the outbox keeps its local copy; the server's is held
    const busy = new Set((await s[OUTBOX].getAll()).map((op) => op.key));
    const held = (await s[META].get('held'))?.value || {};
    for (const change of changes) {
      const name = STORES[change.type];
      const key = `${change.type}:${change.id}`;
      if (!name) continue;
      if (busy.has(key)) {
        if (!held[key] || change.version >= held[key].version) held[key] = change;
        continue;
      }
      delete held[key];
      storeChange(s[name], change);
    }
    s[META].put({ key: 'held', value: held });
    s[META].put({ key: 'cursor', value: cursor });
  });
}

async function pullAll() {
  let cursor = await getMeta('cursor', '0');
  for (let page = 0; page < 1000; page += 1) {
    const answer = await api.get(`/sync/changes?since=${encodeURIComponent(cursor)}&limit=${PAGE}`);
    cursor = answer.cursor;
    await storeChanges(answer.changes, cursor);
    if (answer.changes.length) emit('change');
    if (!answer.has_more) return;
  }
}

// The questionnaires and the prompts are words the server says in the account's
// language. Each language's are kept apart ({ en: [...], es: [...] }), so a language
// chosen offline never shows another's questions: until a sync brings its own, the
// screens say to connect once. (Kept before languages as one list: English.)
async function keepInLanguage(key, { data, language }) {
  await setMeta(key, { ...(await inLanguages(key)), [language]: data });
}

async function inLanguages(key) {
  const kept = await getMeta(key, {});
  return Array.isArray(kept) ? { en: kept } : kept;
}

// The questionnaires, or the prompts, in the language the app speaks now ([] if none yet).
export const inMyLanguage = async (key) => (await inLanguages(key))[currentLanguage()] ?? [];

// What must work with no network: the crisis card (on every sync), the questionnaires,
// the prompts. API answers never go to Cache Storage: IndexedDB only.
async function refreshExtras() {
  const [card, instruments, prompts, me, team] = await Promise.all([
    api.get('/plan/crisis'),
    api.getInLanguage('/checkins/instruments'),
    api.getInLanguage('/journal/prompts'),
    api.get('/auth/me'),
    api.get('/care-team'),
  ]);
  await Promise.all([
    setMeta('crisis_card', card),
    keepInLanguage('instruments', instruments),
    keepInLanguage('prompts', prompts),
    setMeta('user', me),
    // so a risk answer given offline can still say who will be told
    rememberCareTeam(team),
  ]);
  // the lock screen's Help now: the crisis lines (and the contacts, if chosen) of this card
  await refreshLockedHelp();
}

function onQueued() {
  refreshStatus();
  if (!enabled) return;
  clearTimeout(debounce);
  debounce = setTimeout(syncNow, AFTER_CHANGE_MS);
  // Background Sync is a bonus where the browser has it
  navigator.serviceWorker?.ready.then((reg) => reg.sync?.register('outbox')).catch(() => {});
}

let listening = false;

function listen() {
  listening = true;
  outboxEvents.addEventListener('queued', onQueued);
  window.addEventListener('online', () => syncNow());
  window.addEventListener('offline', () => setPhase('offline'));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') syncNow();
  });
  setInterval(() => {
    if (document.visibilityState === 'visible') syncNow();
  }, INTERVAL_MS);
}

export function startSync() {
  enabled = true;
  if (!listening) listen();
  return syncNow();
}

// Signed out or expired: keep the outbox, stop calling the server.
export function stopSync() {
  enabled = false;
  clearTimeout(debounce);
}

export const refreshStatus = () => setPhase(status.phase);
