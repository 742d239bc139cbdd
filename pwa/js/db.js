// IndexedDB: the only place patient data lives on this device (sign-out wipes it).
// Stores mirror the synced types and are named like the API collections.

const DB_NAME = 'between';
const DB_VERSION = 1;

export const STORES = {
  journal_entry: 'journal_entries',
  part: 'parts',
  part_relation: 'part_relations',
  plan: 'plans',
  checkin: 'checkins',
  treatment_session: 'treatment_sessions',
};
export const OUTBOX = 'outbox';
export const META = 'meta';
const ALL_STORES = [...Object.values(STORES), OUTBOX, META];

let dbPromise = null;

function upgrade(db, oldVersion) {
  // The ladder: each step upgrades from the version before it, so any old device
  // reaches the current shape. Add `case 1:` below when DB_VERSION becomes 2.
  switch (oldVersion) {
    case 0: {
      for (const name of Object.values(STORES)) db.createObjectStore(name, { keyPath: 'id' });
      const outbox = db.createObjectStore(OUTBOX, { keyPath: 'seq', autoIncrement: true });
      outbox.createIndex('key', 'key');
      db.createObjectStore(META, { keyPath: 'key' });
    }
    // falls through
    default:
  }
}

export function openDB() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = (event) => upgrade(req.result, event.oldVersion);
      req.onsuccess = () => {
        const db = req.result;
        // another tab upgrades: step aside, reopen on next use
        db.onversionchange = () => {
          db.close();
          dbPromise = null;
        };
        resolve(db);
      };
      req.onerror = () => {
        dbPromise = null;
        reject(req.error);
      };
    });
  }
  return dbPromise;
}

export const done = (req) =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

// Run fn(stores) in one transaction; resolves with fn's result once it has committed.
export async function tx(names, mode, fn) {
  const db = await openDB();
  const list = Array.isArray(names) ? names : [names];
  const t = db.transaction(list, mode);
  const stores = Object.fromEntries(list.map((n) => [n, t.objectStore(n)]));
  const committed = new Promise((resolve, reject) => {
    t.oncomplete = resolve;
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
  });
  const result = await fn(stores, t);
  await committed;
  return result;
}

export const getAll = (store) => tx(store, 'readonly', (s) => done(s[store].getAll()));
export const get = (store, key) => tx(store, 'readonly', (s) => done(s[store].get(key)));
export const put = (store, value) => tx(store, 'readwrite', (s) => done(s[store].put(value)));
export const remove = (store, key) => tx(store, 'readwrite', (s) => done(s[store].delete(key)));

export async function getMeta(key, fallback = null) {
  const row = await get(META, key);
  return row ? row.value : fallback;
}
export const setMeta = (key, value) => put(META, { key, value });

// Sign-out: this device's copy goes, all of it.
export const wipe = () => tx(ALL_STORES, 'readwrite', (s) => Promise.all(ALL_STORES.map((n) => done(s[n].clear()))));
