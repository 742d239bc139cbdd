// The outbox: every change made on this device, queued as a sync op with its own op_id.
// An op is frozen (op_id, base_version, data) once it has been sent, so a replay after
// a lost answer is byte-for-byte the same and the server applies it at most once.

import { ATTENTION, LOCAL, SYNCED } from './constants.js';
import { META, OUTBOX, STORES, clearRows, getAll, tx } from './db.js';

const MAX_BATCH = 100;
// parts before the relations and entries that name them; an entry before the homework
// answer that names it
const TYPE_ORDER = ['part', 'part_relation', 'plan', 'journal_entry', 'checkin', 'assignment'];

export const outboxEvents = new EventTarget();
const keyOf = (type, id) => `${type}:${id}`;

function newOp(type, id, action, data) {
  return {
    key: keyOf(type, id),
    op_id: crypto.randomUUID(),
    type,
    id,
    action,
    data,
    base_version: null,
    attempted: false,
    status: 'pending',
    created_at: new Date().toISOString(),
  };
}

// Save an item on this device and queue it for the server, in one transaction.
// `record` is the full local copy; `data` what the server should receive.
export async function saveItem(type, record, data, action = 'upsert') {
  const store = STORES[type];
  await tx([store, OUTBOX], 'readwrite', async (s) => {
    const ops = await s[OUTBOX].index('key').getAll(keyOf(type, record.id));
    const open = ops.filter((op) => op.status === 'pending' && !op.attempted).pop();
    const neverSent = record.version == null && !ops.some((op) => op.attempted);
    if (action === 'delete' && neverSent) {
      // never reached the server: nothing to tell it
      for (const op of ops) s[OUTBOX].delete(op.seq);
      s[store].delete(record.id);
      return;
    }
    // a delete removes the local copy at once, so it keeps the version it deletes from
    const deleteBase = action === 'delete' ? (record.version ?? null) : undefined;
    if (open) {
      open.action = action;
      open.data = action === 'delete' ? {} : { ...open.data, ...data };
      open.delete_base = deleteBase;
      s[OUTBOX].put(open);
    } else {
      s[OUTBOX].add({ ...newOp(type, record.id, action, action === 'delete' ? {} : data), delete_base: deleteBase });
    }
    if (action === 'delete') s[store].delete(record.id);
    else s[store].put({ ...record, _state: LOCAL, _errors: null });
  });
  outboxEvents.dispatchEvent(new Event('queued'));
}

export const deleteItem = (type, record) => saveItem(type, record, {}, 'delete');

export async function allOps() {
  return getAll(OUTBOX);
}

// What waits on this device, from one read of the outbox, counted from each op's clear
// `status` (so the lock screen can say it without the key): `pending`, the ops still to
// send; `attention`, the changes the server refused, waiting for the person to mend
// them: one per object, however many of its ops wait (a later op carries the refused
// words again).
export async function outboxCounts() {
  const ops = await clearRows(OUTBOX);
  return {
    pending: ops.filter((op) => op.status === 'pending').length,
    attention: new Set(ops.filter((op) => op.status === 'rejected').map((op) => op.key)).size,
  };
}

export const pendingCount = async () => (await outboxCounts()).pending;

// The next batch: the oldest pending op per object (a later edit waits for the answer
// to the earlier one, so its base_version is right), parts first. Freezes each op.
export async function takeBatch() {
  const stores = Object.values(STORES);
  return tx([OUTBOX, ...stores], 'readwrite', async (s) => {
    const all = await s[OUTBOX].getAll();
    const ops = all.filter((op) => op.status === 'pending');
    const seen = new Set();
    const batch = [];
    for (const op of ops) {
      if (seen.has(op.key)) continue;
      seen.add(op.key);
      if (!op.attempted) {
        const item = await s[STORES[op.type]].get(op.id);
        const known = item?.version ?? op.delete_base ?? null;
        op.base_version = op.type === 'plan' ? (known ?? 0) : known;
        op.attempted = true;
        if (op.action !== 'delete') op.data = withRefused(all, op);
        s[OUTBOX].put(op);
      }
      batch.push(op);
      if (batch.length >= MAX_BATCH) break;
    }
    batch.sort((a, b) => TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type) || a.seq - b.seq);
    return batch;
  });
}

// An op takes along, under its own newer fields, what the refused ops of its object
// still hold: words the server could not store (a string cut through an emoji) that
// wait on this device, "Needs your attention". Sent alone, a later edit of other fields
// (a drag sends only where a part now is) would apply and count as superseding them:
// the device would show a name the server never stored as synced, or a pull would
// overwrite it. Together, the op is refused again and everything waits, until the
// patient mends the words; the server refuses such text everywhere, so what it stores
// is exactly what was written.
function withRefused(all, op) {
  const refused = all.filter((o) => o.key === op.key && o.status === 'rejected' && o.seq < op.seq);
  return Object.assign({}, ...refused.map((o) => o.data), op.data);
}

export const toWire = (op) => ({
  op_id: op.op_id,
  type: op.type,
  id: op.id,
  base_version: op.base_version,
  action: op.action,
  data: op.data,
});

// Record the server's answers. Nothing is ever dropped: a conflict or a refusal marks
// the item "Needs your attention" and a refused op stays in the outbox until resolved.
export async function applyResults(batch, results) {
  const byOp = new Map(results.map((r) => [r.op_id, r]));
  const stores = Object.values(STORES);
  const conflicts = [];
  const freed = new Set();
  await tx([OUTBOX, META, ...stores], 'readwrite', async (s) => {
    const all = await s[OUTBOX].getAll();
    for (const op of batch) {
      const res = byOp.get(op.op_id);
      if (!res) continue;
      const store = s[STORES[op.type]];
      const item = await store.get(op.id);
      const later = all.some((o) => o.key === op.key && o.seq !== op.seq && o.status === 'pending');
      if (res.status === 'rejected') {
        op.status = 'rejected';
        op.errors = res.errors || {};
        s[OUTBOX].put(op);
        if (item) store.put({ ...item, _state: ATTENTION, _errors: op.errors });
        continue;
      }
      s[OUTBOX].delete(op.seq);
      // an applied op supersedes older refused ones for the same object: it carried
      // their fields too (withRefused), so nothing of them is left unsent
      if (res.status === 'applied') {
        for (const o of all) if (o.key === op.key && o.status === 'rejected') s[OUTBOX].delete(o.seq);
      }
      if (res.status === 'conflict') conflicts.push(res);
      if (item && op.action !== 'delete') {
        const next = { ...item, _errors: null };
        // "behind": applied over changes not pulled yet: keep building on the old version
        if (res.version != null && res.status === 'applied' && !res.behind) next.version = res.version;
        next._state = later ? LOCAL : res.status === 'conflict' ? ATTENTION : SYNCED;
        if (res.conflict_revision) next._conflict_revision = res.conflict_revision;
        store.put(next);
      }
      freed.add(op.key);
    }
    await release(s, freed);
  });
  return conflicts;
}

export function storeChange(store, change) {
  if (change.deleted) store.delete(change.id);
  else store.put({ ...change.data, id: change.id, version: change.version, _state: SYNCED });
}

// A freed object takes the server copy a pull held back for it, if newer.
async function release(s, keys) {
  const left = new Set((await s[OUTBOX].getAll()).map((op) => op.key));
  const held = (await s[META].get('held'))?.value || {};
  for (const key of keys) {
    const change = held[key];
    if (!change || left.has(key)) continue;
    delete held[key];
    const store = s[STORES[change.type]];
    const item = await store.get(change.id);
    if (item?.version == null || change.version > item.version) storeChange(store, change);
  }
  s[META].put({ key: 'held', value: held });
}
