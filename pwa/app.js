// Boot: the device copy first (offline), then the worker, session and sync.

import { setUnauthorizedHandler } from './js/api.js';
import { isLocked, isSealing, openDB } from './js/db.js';
import { i18nEvents, rememberedLocale, setLocale, t } from './js/i18n.js';
import { watchIdle } from './js/lock.js';
import { followTimeZone, resubscribeOnLaunch } from './js/push.js';
import { parse, render, startRouter } from './js/router.js';
import { loadSession, markExpired, session, sessionEvents } from './js/session.js';
import { startSync, status, syncEvents, syncNow } from './js/sync.js';
import { h } from './js/ui.js';
import { requireLock } from './js/views/app-lock.js';
import { showLockScreen } from './js/views/lock-screen.js';

const STATUS_WORDS = {
  // "All synced" only when it is: words the server refused still wait on this device
  idle: (count, attention) =>
    count
      ? t('status.waiting', { count })
      : attention
        ? t('status.attention', { count: attention })
        : t('status.synced'),
  syncing: () => t('status.syncing'),
  offline: (count) => (count ? t('status.offline_saved', { count }) : t('status.offline')),
  error: (count) => (count ? t('status.retry_saved', { count }) : t('status.retry')),
  expired: (count) => t('status.expired', { count }),
};

function showStatus() {
  const el = document.getElementById('sync-status');
  if (!session.user) {
    el.textContent = '';
    return;
  }
  const phase = session.expired ? 'expired' : navigator.onLine ? status.phase : 'offline';
  el.textContent = STATUS_WORDS[phase](status.pending, status.attention);
}

function showBanners() {
  const area = document.getElementById('banners');
  const banners = [];
  if (session.user && session.expired) {
    banners.push(
      h(
        'div',
        { class: 'banner attention', id: 'expired-banner' },
        h('p', {}, t('banner.expired')),
        h('a', { class: 'button primary', href: '#/signin' }, t('banner.sign_in_again')),
      ),
    );
  }
  if (updateWorker) {
    banners.push(
      h(
        'div',
        { class: 'banner', id: 'update-banner' },
        h('p', {}, t('banner.update_ready')),
        h('button', { type: 'button', class: 'primary', onclick: applyUpdate }, t('banner.update_now')),
      ),
    );
  }
  area.replaceChildren(...banners);
}

// -- updates
// A new version (the server names the worker's cache after the shell's files, so any
// change to them is one) installs in the background, then takes over at a calm moment:
// on a screen that holds nothing in memory, with no field or dialog in use, no touch
// or key for a few seconds, and no sync in flight. Unsent changes wait in the IndexedDB
// outbox, which a reload keeps. Until then "Update now" offers it.
const CALM_SCREENS = new Set(['today', 'journal', 'checkin', 'trends', 'more', 'help', 'privacy', 'signin']);
const QUIET_MS = 3000;

let updateWorker = null;
let updating = false;
let lastTouch = -Infinity;
let calmTimer = null;

function isCalm() {
  const { name, params } = parse();
  const active = document.activeElement;
  const typing = active?.matches?.('input, textarea, select, [contenteditable]:not([contenteditable="false"])');
  return (
    CALM_SCREENS.has(name) &&
    !params.length &&
    !typing &&
    !document.querySelector('dialog[open]') &&
    status.phase !== 'syncing' &&
    performance.now() - lastTouch >= QUIET_MS
  );
}

function applyUpdate() {
  if (updating) return;
  updating = true;
  // installed and waiting: activate it, then reload on `controllerchange`;
  // already active (another tab took it): reload into it now
  if (updateWorker?.state === 'installed') updateWorker.postMessage({ type: 'skip-waiting' });
  else location.reload();
}

function updateWhenCalm() {
  clearTimeout(calmTimer);
  if (!updateWorker || updating) return;
  if (isCalm()) applyUpdate();
  else calmTimer = setTimeout(updateWhenCalm, QUIET_MS);
}

let workerRegistered = false; // once: before the lock screen, or else here

async function registerWorker() {
  if (!('serviceWorker' in navigator) || workerRegistered) return;
  workerRegistered = true;
  let controlled = Boolean(navigator.serviceWorker.controller);
  const reg = await navigator.serviceWorker.register('/sw.js');
  const offer = (worker) => {
    updateWorker = worker;
    showBanners();
    updateWhenCalm();
  };
  const follow = (worker) => {
    worker.addEventListener('statechange', () => {
      if (worker.state === 'installed' && navigator.serviceWorker.controller) offer(worker);
    });
  };
  if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
  else if (reg.installing) follow(reg.installing); // found before we listened
  reg.addEventListener('updatefound', () => reg.installing && follow(reg.installing));
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!controlled) {
      controlled = true; // the first install taking over: nothing to reload
      return;
    }
    if (updating) location.reload();
    else offer(navigator.serviceWorker.controller); // another tab updated: follow it
  });
  for (const type of ['pointerdown', 'keydown', 'input']) {
    addEventListener(type, () => (lastTouch = performance.now()), { capture: true, passive: true });
  }
  navigator.serviceWorker.addEventListener('message', (event) => {
    const msg = event.data || {};
    if (msg.type === 'sync') syncNow();
    if (msg.type === 'open' && msg.url) location.hash = new URL(msg.url, location.href).hash || '#/today';
  });
}

const follow = () => session.user && !document.hidden && followTimeZone().catch(() => {});

// a therapist without the app lock (on by default for them) sets a PIN before anything else
const needsLock = () => session.user?.role === 'therapist' && !isSealing();

// The account's language once it is known; before, the one last used on this device.
// A catalogue that cannot load (a first visit cut off mid-way) leaves English.
const useLanguage = () => setLocale(session.user?.locale || rememberedLocale()).catch(() => {});

async function boot() {
  await useLanguage();
  await openDB();
  // with the app lock on, nothing is read from the device copy before the PIN
  if (isLocked()) {
    registerWorker().catch(() => {});
    await showLockScreen(document.getElementById('main'));
  }
  await loadSession();
  await useLanguage();
  if (needsLock()) {
    const signOutMs = (Number(session.user.idle_timeout_seconds) || 30 * 60) * 1000;
    await requireLock(document.getElementById('main'), { signOutMs });
  }
  watchIdle();
  setUnauthorizedHandler(markExpired);
  sessionEvents.addEventListener('change', () => {
    if (needsLock()) return location.reload(); // signed in: boot asks for the PIN first
    showStatus();
    showBanners();
    if (!session.user) render();
    follow();
    useLanguage();
  });
  // A new language (chosen in Settings, or on another device) redraws the screen in it,
  // unless someone is typing: then the next screen they open is in the new language.
  i18nEvents.addEventListener('change', () => {
    showStatus();
    showBanners();
    if (!document.activeElement?.matches?.('input, textarea, select, [contenteditable]')) render();
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
