// Who is signed in on this device. The user lives in IndexedDB so the app opens
// offline; an expired session keeps every unsent change until the next sign-in.

import * as api from './api.js';
import { getMeta, setMeta, wipe } from './db.js';
import { pendingCount } from './outbox.js';
import { startSync, stopSync, syncNow } from './sync.js';

export const sessionEvents = new EventTarget();
export const session = { user: null, expired: false };
const emit = () => sessionEvents.dispatchEvent(new Event('change'));

export async function loadSession() {
  session.user = await getMeta('user');
  if (session.user) flushMe().catch(() => {}); // settings changed offline last time
  return session.user;
}

export function markExpired() {
  if (!session.user || session.expired) return;
  session.expired = true;
  stopSync();
  emit();
}

// My settings changed on this device and not yet on the server (sealed like every
// record when the app lock is on): shown at once, sent when the network allows.
const ME_PENDING = 'me_pending';
let flushing = null;

// The server's copy of me (after turning two-factor on, say), kept on the device too,
// with my settings still waiting to be sent laid over it.
export async function refreshUser() {
  const me = { ...(await api.get('/auth/me')), ...((await getMeta(ME_PENDING)) || {}) };
  session.user = me;
  session.expired = false;
  await setMeta('user', me);
  emit();
  return me;
}

// Change my name, time zone, language or region: on this device at once, then on the
// server (now, or on reconnect). Resolves with the server's refusal, if any.
export async function saveMe(changes) {
  const pending = { ...((await getMeta(ME_PENDING)) || {}), ...changes };
  await setMeta(ME_PENDING, pending);
  session.user = { ...session.user, ...changes };
  await setMeta('user', session.user);
  emit();
  return flushMe();
}

export const hasPendingMe = async () => Boolean(await getMeta(ME_PENDING));

// Send my waiting settings. Offline they wait; a refusal (422) drops them and puts the
// server's copy back, and is returned so the screen can say why.
export function flushMe() {
  flushing ??= (async () => {
    try {
      for (;;) {
        const pending = await getMeta(ME_PENDING);
        if (!pending || !session.user) return null;
        try {
          const me = await api.request('PATCH', '/auth/me', pending);
          const now = await getMeta(ME_PENDING);
          // changed again while this was on its way: send the rest next round
          if (JSON.stringify(now) === JSON.stringify(pending)) {
            await setMeta(ME_PENDING, null);
            session.user = me;
            await setMeta('user', me);
            emit();
            // the server words the questionnaires and prompts in the account's language:
            // fetch them in the new one now that the server has it
            if ('locale' in pending) syncNow();
            return null;
          }
        } catch (err) {
          if (!(err instanceof api.ApiError) || err.status !== 422) return null;
          await setMeta(ME_PENDING, null);
          await refreshUser().catch(() => {});
          return err;
        }
      }
    } finally {
      flushing = null;
    }
  })();
  return flushing;
}
window.addEventListener('online', () => flushMe().catch(() => {}));

// Is the cookie still good? Offline, we trust the device copy and find out later.
export async function checkSession() {
  try {
    await refreshUser();
    flushMe().catch(() => {});
    return true;
  } catch (err) {
    if (err instanceof api.ApiError && err.status === 401) markExpired();
    return false;
  }
}

async function started(user) {
  const previous = await getMeta('user');
  if (previous && previous.id !== user.id) await wipe(); // another person's copy never mixes in
  // my own settings still waiting to be sent (changed while the session had expired)
  session.user = { ...user, ...((await getMeta(ME_PENDING)) || {}) };
  session.expired = false;
  await setMeta('user', session.user);
  navigator.storage?.persist?.().catch(() => {});
  emit();
  flushMe().catch(() => {});
  if (user.role === 'patient') startSync(); // a therapist's device keeps no patient data
  return user;
}

export async function signIn(email, password, secondFactor = {}) {
  return started(await api.post('/auth/login', { email, password, ...secondFactor }));
}

// A sign-in the server has already answered (a passkey's, where only the answer says who).
export const signedIn = (user) => started(user);

// A patient, unless the fields say therapist (with the clinic's invitation token).
export async function register(fields) {
  const user = await api.post('/auth/register', {
    role: 'patient',
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
    locale: navigator.language || 'en-US',
    ...fields,
  });
  return started(user);
}

// Another account's unsent changes would be lost by signing in as someone else.
export async function unsentFor(email) {
  const previous = await getMeta('user');
  if (!previous || previous.email === email.trim().toLowerCase()) return 0;
  return pendingCount();
}

export async function signOut() {
  stopSync();
  try {
    await api.post('/auth/logout');
  } catch {
    // offline: the server session times out; this device's copy goes now regardless
  }
  try {
    const reg = await navigator.serviceWorker?.getRegistration();
    const sub = await reg?.pushManager?.getSubscription();
    await sub?.unsubscribe();
  } catch {
    // no push on this device
  }
  await wipe();
  session.user = null;
  session.expired = false;
  emit();
}
