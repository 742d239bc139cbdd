// Notifications: asked for only after the person taps "Turn on", shown as on/working,
// and testable. The subscription is sent again on every launch (the server keeps it).

import * as api from './api.js';

const b64ToBytes = (b64) => {
  const s = atob((b64 + '='.repeat((4 - (b64.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
};

export const supported = () => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

async function registration() {
  return navigator.serviceWorker.ready;
}

// {supported, permission, subscribed, known}: known = the server has this device
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
