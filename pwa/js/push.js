// Notifications: asked for after a tap, shown on/working, testable; resent on launch.

import * as api from './api.js';
import { hasPendingMe } from './session.js';

const b64ToBytes = (b64) => {
  const s = atob(b64.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
};

export const supported = () => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

const registration = () => navigator.serviceWorker.ready;

// known: the server has this device
export async function notificationState() {
  if (!supported()) return { supported: false };
  const reg = await registration();
  const sub = await reg.pushManager.getSubscription();
  let known = null;
  if (sub) {
    try {
      known = (await api.get('/push/subscriptions')).some((s) => s.endpoint === sub.endpoint);
    } catch {
      known = null; // offline: unknown, not "off"
    }
  }
  return { supported: true, permission: Notification.permission, subscribed: Boolean(sub), known };
}

async function sendSubscription(sub) {
  await api.post('/push/subscriptions', { ...sub.toJSON(), user_agent: navigator.userAgent.slice(0, 200) });
}

export const BLOCKED_WORDS =
  'Notifications are blocked for Between in this browser’s settings. Allow them there to get reminders.';

// The browser's own failures ("Registration failed - permission denied") in plain words.
export function pushErrorWords(err, fallback = 'Could not turn on notifications. Try again later.') {
  if (err instanceof api.NetworkError) return 'Connect to the internet to change notifications.';
  if (err instanceof api.ApiError) return err.message || fallback;
  const name = err?.name || '';
  const text = String(err?.message || '');
  if (name === 'NotAllowedError' || /permission/i.test(text)) return BLOCKED_WORDS;
  if (name === 'NotSupportedError')
    return 'This browser cannot show notifications from Between. Reminders still show on the Today screen.';
  if (name === 'AbortError' || /push service/i.test(text))
    return 'This browser’s notification service did not answer. Try again in a while.';
  if (name === 'InvalidStateError')
    return 'Notifications could not be set up on this device just now. Reload Between and try again.';
  return fallback;
}

export async function enableNotifications() {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return permission;
  const { public_key: key } = await api.get('/push/vapid-public-key');
  const reg = await registration();
  const sub =
    (await reg.pushManager.getSubscription()) ||
    (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64ToBytes(key) }));
  await sendSubscription(sub);
  return 'granted';
}

export async function disableNotifications() {
  const reg = await registration();
  const sub = await reg.pushManager.getSubscription();
  if (!sub) return;
  await api.del('/push/subscriptions', { endpoint: sub.endpoint }).catch(() => {});
  await sub.unsubscribe();
}

export async function resubscribeOnLaunch() {
  if (!supported() || Notification.permission !== 'granted') return;
  const sub = await (await registration()).pushManager.getSubscription();
  if (sub) await sendSubscription(sub).catch(() => {});
}

export const sendTest = () => api.post('/push/test');

// Reminders follow the device's time zone, while the person lets them (`follow_device`,
// on by default): a zone chosen in Settings turns following off on the server, so the
// next open leaves that choice alone. A choice still waiting on this device to be sent
// wins too: nothing is moved until the server has it.
export async function followTimeZone() {
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!timezone || (await hasPendingMe())) return;
  const s = await api.get('/reminders');
  if (s.follow_device === false || timezone === s.timezone) return;
  await api.put('/reminders', { version: s.version, timezone });
}
