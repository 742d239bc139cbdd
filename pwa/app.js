// Boot: the device copy first (offline), then the worker, session and sync.

import { setUnauthorizedHandler } from './js/api.js';
import { openDB } from './js/db.js';
import { followTimeZone, resubscribeOnLaunch } from './js/push.js';
import { render, startRouter } from './js/router.js';
import { loadSession, markExpired, session, sessionEvents } from './js/session.js';
import { startSync, status, syncEvents, syncNow } from './js/sync.js';
import { h } from './js/ui.js';

const STATUS_WORDS = {
  idle: (n) => (n ? `${n} waiting to send` : 'All synced'),
  syncing: () => 'Syncing…',
  offline: (n) => (n ? `Offline · ${n} saved on this device` : 'Offline'),
  error: (n) => (n ? `Will retry · ${n} saved on this device` : 'Will retry soon'),
  expired: (n) => `Signed out · ${n} saved on this device`,
};

function showStatus() {
  const el = document.getElementById('sync-status');
  if (!session.user) {
    el.textContent = '';
    return;
  }
  const phase = session.expired ? 'expired' : navigator.onLine ? status.phase : 'offline';
  el.textContent = STATUS_WORDS[phase](status.pending);
}

function showBanners() {
  const area = document.getElementById('banners');
  const banners = [];
  if (session.user && session.expired) {
    banners.push(
      h(
        'div',
        { class: 'banner attention', id: 'expired-banner' },
        h('p', {}, 'Your sign-in has ended. Nothing on this device is lost: sign in again to send it.'),
        h('a', { class: 'button primary', href: '#/signin' }, 'Sign in again'),
      ),
    );
  }
  if (updateWorker) {
    banners.push(
      h(
        'div',
        { class: 'banner', id: 'update-banner' },
        h('p', {}, 'A new version of Between is ready.'),
        h('button', { type: 'button', class: 'primary', onclick: applyUpdate }, 'Update now'),
      ),
    );
  }
  area.replaceChildren(...banners);
}

let updateWorker = null;
let updating = false;

function applyUpdate() {
  updating = true;
  updateWorker?.postMessage({ type: 'skip-waiting' });
}

async function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  const reg = await navigator.serviceWorker.register('/sw.js');
  const offer = (worker) => {
    updateWorker = worker;
    showBanners();
  };
  if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
  reg.addEventListener('updatefound', () => {
    const worker = reg.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed' && navigator.serviceWorker.controller) offer(worker);
    });
  });
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (updating) location.reload();
  });
  navigator.serviceWorker.addEventListener('message', (event) => {
    const msg = event.data || {};
    if (msg.type === 'sync') syncNow();
    if (msg.type === 'open' && msg.url) location.hash = new URL(msg.url, location.href).hash || '#/today';
  });
}

const follow = () => session.user && !document.hidden && followTimeZone().catch(() => {});

async function boot() {
  await openDB();
  await loadSession();
  setUnauthorizedHandler(markExpired);
  sessionEvents.addEventListener('change', () => {
    showStatus();
    showBanners();
    if (!session.user) render();
    follow();
  });
  document.addEventListener('visibilitychange', follow);
  syncEvents.addEventListener('status', showStatus);
  window.addEventListener('online', showStatus);
  window.addEventListener('offline', showStatus);
  await startRouter(document.getElementById('main'));
  showStatus();
  registerWorker().catch(() => {});
  // offline the loop waits for `online`; a 401 means "sign in again"
  if (session.user) {
    if (session.user.role === 'patient') startSync();
    resubscribeOnLaunch();
    follow();
  }
}

boot();
