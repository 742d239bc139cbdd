// Between's service worker, in plain sections: version → caches → install → activate →
// fetch → push → notification clicks → background sync → messages.
// It caches the app shell only. API answers never go into Cache Storage: patient data
// lives in IndexedDB alone, which sign-out wipes.

// -- version
// The server serves this file with a hash of every file in SHELL (and of this one) in
// place of 'dev' (server/pwa_static.py): a deploy that changes any of them changes
// these bytes, so the browser installs the new version. Never edited by hand.
const VERSION = 'dev';

// -- caches
// Any cache under this prefix but the current one is an older version, deleted on activate.
const PREFIX = 'between-static-v';
const STATIC_CACHE = `${PREFIX}${VERSION}`;
const EXPECTED_CACHES = new Set([STATIC_CACHE]);
// Not here: js/views/account.js and js/views/security.js (sign-up, password reset,
// two-factor set-up) need the network anyway, so they load from it, keeping the shell small.
const SHELL = [
  '/',
  '/index.html',
  '/manifest.webmanifest',
  '/app.js',
  '/css/app.css',
  '/icons/icon.svg',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-512.png',
  '/i18n/en.json',
  '/i18n/es.json',
  '/js/api.js',
  '/js/care-words.js',
  '/js/checkin-scoring.js',
  '/js/constants.js',
  '/js/db.js',
  '/js/i18n.js',
  '/js/lock.js',
  '/js/nav.js',
  '/js/outbox.js',
  '/js/push.js',
  '/js/router.js',
  '/js/session.js',
  '/js/sync.js',
  '/js/ui.js',
  '/js/views/app-lock.js',
  '/js/views/assignments.js',
  '/js/views/checkin.js',
  '/js/views/conflict.js',
  '/js/views/forms.js',
  '/js/views/help-now.js',
  '/js/views/journal.js',
  '/js/views/lock-screen.js',
  '/js/views/more.js',
  '/js/views/parts-map.js',
  '/js/views/plan.js',
  '/js/views/privacy.js',
  '/js/views/reminders.js',
  '/js/views/settings.js',
  '/js/views/sign-in.js',
  '/js/views/today.js',
  '/js/views/trends.js',
];

// -- install
self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(STATIC_CACHE);
      // `cache: 'reload'`: the shell of this version, never an HTTP-cached older file
      await cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })));
      // The first install takes over at once; an update waits for "Update now".
      if (!(await self.registration.active)) await self.skipWaiting();
    })(),
  );
});

// -- activate
self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(PREFIX) && !EXPECTED_CACHES.has(name)) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

// -- fetch
self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) return; // straight to the network, never cached
  if (request.mode === 'navigate') {
    // the shell answers every navigation: instant, and the same offline
    event.respondWith(
      (async () => (await caches.match('/index.html', { cacheName: STATIC_CACHE })) || fetch(request))(),
    );
    return;
  }
  event.respondWith(
    (async () => {
      const hit = await caches.match(request, { cacheName: STATIC_CACHE, ignoreSearch: true });
      // a therapist's files are cached on first use, never precached: no patient downloads them
      if (hit || !url.pathname.includes('/therapist')) return hit || fetch(request);
      const response = await fetch(request);
      if (response.ok) await (await caches.open(STATIC_CACHE)).put(url.pathname, response.clone());
      return response;
    })(),
  );
});

// -- push
// Every push shows a notification. The payload carries no health information:
// {type, id (the delivery), url, body, actions?}. The tag is per reminder (its screen),
// so a repeated delivery replaces the earlier notification instead of piling up.
const DEFAULT_URL = { checkin: '/#/checkin', journal: '/#/journal/new', plan: '/#/plan', test: '/#/reminders' };
// The buttons a notification may carry (a check-in's "Later (1 h)"), titled by the
// server in the person's language; any other action a payload names is left out.
const ACTIONS = new Set(['later']);

function actionsOf(data) {
  if (!Array.isArray(data.actions)) return [];
  return data.actions
    .filter((a) => a && ACTIONS.has(a.action) && typeof a.title === 'string' && a.title)
    .map((a) => ({ action: a.action, title: a.title }));
}

function readPayload(event) {
  try {
    return event.data ? event.data.json() : {};
  } catch {
    return { body: event.data?.text() };
  }
}

async function receipt(data, outcome) {
  if (!data.id) return;
  try {
    await fetch('/api/v1/push/receipts', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ delivery_id: data.id, event: outcome }),
    });
  } catch {
    // offline: the receipt is a courtesy, the notification already did its job
  }
}

self.addEventListener('push', (event) => {
  const data = readPayload(event);
  const url = data.url || DEFAULT_URL[data.type] || '/#/today';
  event.waitUntil(
    (async () => {
      await self.registration.showNotification(data.title || 'Between', {
        body: data.body || 'You have a reminder from Between.',
        actions: actionsOf(data),
        tag: `between:${url}`,
        renotify: false,
        icon: '/icons/icon-192.png',
        badge: '/icons/icon-192.png',
        data: { ...data, url },
      });
      await receipt(data, 'shown');
    })(),
  );
});

// -- notification clicks
async function openScreen(data) {
  const url = new URL(data.url || '/#/today', self.location.origin).href;
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((c) => new URL(c.url).origin === self.location.origin);
  if (open) {
    open.postMessage({ type: 'open', url });
    await open.focus().catch(() => {});
  } else {
    await self.clients.openWindow(url);
  }
  await receipt(data, 'opened');
}

// "Later (1 h)": the server sends this reminder once more in an hour (the receipt asks
// for it); nothing opens. A click anywhere else on the notification opens its screen.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  event.waitUntil(event.action === 'later' ? receipt(data, 'later') : openScreen(data));
});

self.addEventListener('notificationclose', (event) => {
  event.waitUntil(receipt(event.notification.data || {}, 'dismissed'));
});

// -- background sync
// The outbox drains in the page (it owns the sync code); wake any open window.
self.addEventListener('sync', (event) => {
  if (event.tag !== 'outbox') return;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window' });
      windows.forEach((c) => c.postMessage({ type: 'sync' }));
    })(),
  );
});

// -- messages
self.addEventListener('message', (event) => {
  if (event.data?.type === 'skip-waiting') self.skipWaiting();
  // which version this is, for the page (and for support): the cache it serves from
  if (event.data?.type === 'version') event.ports[0]?.postMessage({ cache: STATIC_CACHE });
});
