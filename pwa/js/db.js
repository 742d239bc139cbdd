// IndexedDB: the only place patient data lives on this device (sign-out wipes it).
// Stores mirror the synced types and are named like the API collections.
//
// With the app lock on, this module seals every record it writes and opens every record
// it reads (AES-GCM, WebCrypto), under a data key that only lock.js hands it, kept in
// memory while unlocked and never written down in clear. Every other module reads and
// writes through here, so this is the one place that encrypts.
//
// A WebCrypto call ends an IndexedDB transaction (it answers in a later task, and a
// transaction with no request pending commits). So with the lock on, a transaction here
// is: read (each read its own short transaction, opened here), let the caller decide,
// seal what it wrote, then apply every write in one transaction. Writers take turns (a
// Web Lock, across tabs), so no other write lands between a writer's reads and its
// writes. With the lock off there is nothing to seal: one plain IndexedDB transaction.

const DB_NAME = 'between';
const DB_VERSION = 2;

export const STORES = {
  journal_entry: 'journal_entries',
  part: 'parts',
  part_relation: 'part_relations',
  plan: 'plans',
  checkin: 'checkins',
  treatment_session: 'treatment_sessions',
  // version 2: what the therapist set (measurement plans, homework)
  assignment: 'assignments',
};
export const OUTBOX = 'outbox';
export const META = 'meta';
const ALL_STORES = [...Object.values(STORES), OUTBOX, META];
const KEY_PATH = { [OUTBOX]: 'seq', [META]: 'key' };
const keyPathOf = (store) => KEY_PATH[store] || 'id';

// What stays readable in a sealed record: only what it is found and counted by, none of
// it personal. `id`/`seq`/`key` are random ids, a counter and "type:id" (the outbox's
// index); an op's `status` (pending or refused) counts the unsent changes while locked.
const CLEAR_FIELDS = { [OUTBOX]: ['seq', 'key', 'status'], [META]: ['key'] };
// META records never sealed: the lock's own settings and wrong-PIN count (needed to
// unlock), the sync cursor and time, and the Help now copy for the lock screen, which
// holds the crisis lines and, only if the patient chose it, their own contacts.
export const LOCK = 'lock';
export const LOCK_TRIES = 'lock_tries';
export const LOCKED_HELP = 'locked_help';
const CLEAR_META = new Set([LOCK, LOCK_TRIES, LOCKED_HELP, 'cursor', 'last_synced_at']);

// -- the lock's state
let dataKey = null; // in memory only, while unlocked
let sealing = false; // the lock is on: records are sealed

export class LockedError extends Error {
  constructor() {
    super('Between is locked');
  }
}

export const isSealing = () => sealing;
export const isLocked = () => sealing && !dataKey;
// lock.js: the key that opens this device's records (null: forget it)
export function useDataKey(key) {
  dataKey = key;
}

const text = new TextEncoder();
const words = new TextDecoder();
const isClear = (store, value) => store === META && CLEAR_META.has(value.key);

// `key`: the data key to seal with; records the lock leaves clear stay as they are
async function seal(store, value, key) {
  if (isClear(store, value)) return value;
  const clear = {};
  for (const field of CLEAR_FIELDS[store] || ['id']) if (value[field] !== undefined) clear[field] = value[field];
  const iv = crypto.getRandomValues(new Uint8Array(12));
  // the store's name is bound in, so a record cannot be passed off as another store's
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: text.encode(store) },
    key,
    text.encode(JSON.stringify(value)),
  );
  return { ...clear, sealed: { iv, ct } };
}

// What a transaction writes: sealed while the lock is on, as it is while off.
function sealIfOn(store, value) {
  if (!sealing || isClear(store, value)) return value;
  if (!dataKey) throw new LockedError();
  return seal(store, value, dataKey);
}

async function unseal(store, row, key = dataKey) {
  if (!row?.sealed) return row;
  if (!key) throw new LockedError();
  const { sealed, ...clear } = row;
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: sealed.iv, additionalData: text.encode(store) },
    key,
    sealed.ct,
  );
  // the clear fields win: an outbox op's seq is given by the store, after sealing
  return { ...JSON.parse(words.decode(plain)), ...clear };
}

// -- opening
let dbPromise = null;

// The stores version 1 made; each later step names its own, so a step never makes a
// store twice (a new device climbs every step).
const FIRST_STORES = ['journal_entries', 'parts', 'part_relations', 'plans', 'checkins', 'treatment_sessions'];

// `upgrading`: the version change's own transaction, for steps that touch records
function upgrade(db, upgrading, oldVersion) {
  // The ladder: each step upgrades from the version before it, so any old device
  // reaches the current shape, its records (and its unsent outbox) kept. A new store
  // needs no sealing step: it starts empty, and records written to it are sealed as
  // every store's are while the lock is on. Add `case 2:` when DB_VERSION becomes 3.
  switch (oldVersion) {
    case 0: {
      for (const name of FIRST_STORES) db.createObjectStore(name, { keyPath: 'id' });
      const outbox = db.createObjectStore(OUTBOX, { keyPath: 'seq', autoIncrement: true });
      outbox.createIndex('key', 'key');
      db.createObjectStore(META, { keyPath: 'key' });
    }
    // falls through
    case 1:
      db.createObjectStore(STORES.assignment, { keyPath: 'id' });
      // the code before this step skipped assignments it pulled (a type it had no store
      // for) and moved the cursor past them: pull everything once more (the cursor is
      // one of the records the lock leaves clear, so this works on a locked device too)
      if (oldVersion === 1) upgrading.objectStore(META).delete('cursor');
    // falls through
    default:
  }
}

const done = (req) =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

export function openDB() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = (event) => upgrade(req.result, req.transaction, event.oldVersion);
      req.onsuccess = () => {
        const db = req.result;
        // another tab upgrades: step aside, reopen on next use
        db.onversionchange = () => {
          db.close();
          dbPromise = null;
        };
        // is the lock on? (its record is never sealed)
        done(db.transaction(META).objectStore(META).get(LOCK)).then((lock) => {
          sealing = Boolean(lock?.value?.wrapped);
          resolve(db);
        }, reject);
      };
      req.onerror = () => {
        dbPromise = null;
        reject(req.error);
      };
    });
  }
  return dbPromise;
}

// -- raw access: records as stored
async function rawRequest(store, fn) {
  const db = await openDB();
  return done(fn(db.transaction(store, 'readonly').objectStore(store)));
}

// Apply writes, in order, in one transaction: all of them or none.
async function rawWrite(writes) {
  const db = await openDB();
  const names = [...new Set(writes.map((w) => w.store))];
  if (!names.length) return;
  const t = db.transaction(names, 'readwrite');
  const committed = new Promise((resolve, reject) => {
    t.oncomplete = resolve;
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
  });
  for (const w of writes) {
    const s = t.objectStore(w.store);
    if (w.op === 'clear') s.clear();
    else if (w.op === 'delete') s.delete(w.key);
    else s[w.op](w.value);
  }
  await committed;
}

// One writer at a time, in every tab of this app.
let queue = Promise.resolve();
function asWriter(fn) {
  if (navigator.locks) return navigator.locks.request('between-db', fn);
  const run = queue.then(fn);
  queue = run.catch(() => {});
  return run;
}

// -- a store as a transaction sees it: its reads opened, its own writes included
const GONE = Symbol('deleted');

class StoreView {
  constructor(name, writes) {
    this.name = name;
    this.writes = writes;
    this.keyPath = keyPathOf(name);
    this.changed = new Map();
    this.added = [];
    this.cleared = false;
  }

  async get(key) {
    if (this.changed.has(key)) {
      const value = this.changed.get(key);
      return value === GONE ? undefined : structuredClone(value);
    }
    if (this.cleared) return undefined;
    return unseal(this.name, await rawRequest(this.name, (s) => s.get(key)));
  }

  async rows(request, keep = () => true) {
    const stored = this.cleared ? [] : await rawRequest(this.name, request);
    const byKey = new Map();
    for (const row of await Promise.all(stored.map((r) => unseal(this.name, r)))) byKey.set(row[this.keyPath], row);
    for (const [key, value] of this.changed) {
      if (value === GONE) byKey.delete(key);
      else if (keep(value)) byKey.set(key, structuredClone(value));
    }
    const sorted = [...byKey.entries()].sort(([a], [b]) => indexedDB.cmp(a, b)).map(([, v]) => v);
    return [...sorted, ...this.added.filter(keep).map((v) => structuredClone(v))];
  }

  getAll() {
    return this.rows((s) => s.getAll());
  }

  // the outbox's `key` index: the ops of one object
  index(name) {
    return {
      getAll: (value) =>
        this.rows(
          (s) => s.index(name).getAll(value),
          (v) => v[name] === value,
        ),
    };
  }

  put(value) {
    const copy = structuredClone(value);
    this.changed.set(copy[this.keyPath], copy);
    this.writes.push({ store: this.name, op: 'put', value: copy });
  }

  add(value) {
    const copy = structuredClone(value);
    this.added.push(copy);
    this.writes.push({ store: this.name, op: 'add', value: copy });
  }

  delete(key) {
    this.changed.set(key, GONE);
    this.writes.push({ store: this.name, op: 'delete', key });
  }

  clear() {
    this.cleared = true;
    this.changed.clear();
    this.added = [];
    this.writes.push({ store: this.name, op: 'clear' });
  }
}

// The lock off: fn runs in one IndexedDB transaction, its reads and writes straight on the
// stores (promises for reads, as `idb` does: a request's answer keeps the transaction
// alive). IndexedDB itself keeps writers apart then. Resolves to RESEAL when the device
// turns out to be sealed (another tab turned the lock on): nothing was written.
const RESEAL = Symbol('sealed meanwhile');

class DirectView {
  constructor(store) {
    this.store = store;
  }

  async get(key) {
    return clearOnly(await done(this.store.get(key)));
  }

  async getAll() {
    return clearOnly(await done(this.store.getAll()));
  }

  index(name) {
    return { getAll: async (value) => clearOnly(await done(this.store.index(name).getAll(value))) };
  }

  put(value) {
    this.store.put(value);
  }

  add(value) {
    this.store.add(value);
  }

  delete(key) {
    this.store.delete(key);
  }

  clear() {
    this.store.clear();
  }
}

class SealedMeanwhile extends Error {}
function clearOnly(found) {
  if ([].concat(found ?? []).some((row) => row?.sealed)) throw new SealedMeanwhile();
  return found;
}

async function direct(list, mode, fn) {
  const db = await openDB();
  const t = db.transaction(mode === 'readwrite' ? [...new Set([...list, META])] : list, mode);
  const committed = new Promise((resolve, reject) => {
    t.oncomplete = resolve;
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
  });
  committed.catch(() => {}); // awaited below, unless given up
  try {
    if (mode === 'readwrite' && (await done(t.objectStore(META).get(LOCK)))?.value?.wrapped)
      throw new SealedMeanwhile();
    const result = await fn(Object.fromEntries(list.map((n) => [n, new DirectView(t.objectStore(n))])));
    await committed;
    return result;
  } catch (err) {
    try {
      t.abort(); // all or nothing
    } catch {
      // already finished
    }
    if (!(err instanceof SealedMeanwhile)) throw err;
    sealing = true;
    return RESEAL;
  }
}

// With the lock on: each read its own short transaction, opened (unsealed) here; the
// writes kept, sealed, then applied together; one writer at a time across tabs.
async function sealedTx(list, mode, fn) {
  const run = async () => {
    const writes = [];
    const stores = Object.fromEntries(list.map((n) => [n, new StoreView(n, writes)]));
    const result = await fn(stores);
    if (mode !== 'readwrite') {
      if (writes.length) throw new Error('a write in a readonly transaction');
      return result;
    }
    // another tab may have turned the lock on or off meanwhile: seal as the device is now
    sealing = Boolean((await rawRequest(META, (m) => m.get(LOCK)))?.value?.wrapped);
    for (const w of writes) if (w.value) w.value = await sealIfOn(w.store, w.value);
    await rawWrite(writes);
    return result;
  };
  return mode === 'readwrite' ? asWriter(run) : run();
}

// Run fn(stores) with a view of each store (get, getAll, index(…).getAll: awaited; put,
// add, delete, clear); resolves with fn's result once every write it made has been
// committed together. Only IndexedDB work may be awaited inside fn.
export async function tx(names, mode, fn) {
  await openDB();
  const list = Array.isArray(names) ? names : [names];
  if (!sealing) {
    const result = await direct(list, mode, fn);
    if (result !== RESEAL) return result;
  }
  return sealedTx(list, mode, fn);
}

export const getAll = (store) => tx(store, 'readonly', (s) => s[store].getAll());
export const get = (store, key) => tx(store, 'readonly', (s) => s[store].get(key));
export const put = (store, value) => tx(store, 'readwrite', (s) => s[store].put(value));
export const remove = (store, key) => tx(store, 'readwrite', (s) => s[store].delete(key));

export async function getMeta(key, fallback = null) {
  const row = await get(META, key);
  return row ? row.value : fallback;
}
export const setMeta = (key, value) => put(META, { key, value });

// A store's rows as kept, sealed or not: only their clear fields may be read.
export const clearRows = (store) => rawRequest(store, (s) => s.getAll());

// The lock turned on (a data key and the lock's record) or off (null, null): every record
// of every store is sealed, or opened, and written back with the lock's record in one
// transaction, so a device is never half one way and half the other.
export async function reseal(newKey, lockRecord) {
  return asWriter(async () => {
    const writes = [];
    for (const store of ALL_STORES) {
      for (const row of await rawRequest(store, (s) => s.getAll())) {
        if (store === META && row.key === LOCK) continue;
        const value = await unseal(store, row);
        const next = newKey ? await seal(store, value, newKey) : value;
        writes.push({ store, op: 'put', value: next });
      }
    }
    if (lockRecord) writes.push({ store: META, op: 'put', value: { key: LOCK, value: lockRecord } });
    else writes.push({ store: META, op: 'delete', key: LOCK });
    await rawWrite(writes);
    sealing = Boolean(newKey);
    dataKey = newKey;
  });
}

// Sign-out (or a wipe from the lock screen): this device's copy goes, all of it, the lock
// with it. Needs no key.
export const wipe = () =>
  asWriter(async () => {
    await rawWrite(ALL_STORES.map((store) => ({ store, op: 'clear' })));
    sealing = false;
    dataKey = null;
  });
