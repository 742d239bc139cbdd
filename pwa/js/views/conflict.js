// A journal entry changed on two devices from the same version. The server kept one
// text and stored the other as a copy (conflict_of); nothing was lost. Here the person
// compares them side by side and keeps mine, keeps theirs, or keeps both.

import { STORES, get, getAll, getMeta } from '../db.js';
import { navigate } from '../nav.js';
import { deleteItem, saveItem } from '../outbox.js';
import { fmtDateTime, h, localIso, mount, pageTitle, toast } from '../ui.js';
import { entryData, entryTitle } from './journal.js';

const TYPE = 'journal_entry';
const strip = (e) => {
  const data = entryData(e);
  data.shared = Boolean(e.shared);
  return data;
};

function column(label, entry, id) {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': id },
    h('h2', { id }, label),
    h('p', { class: 'muted small' }, fmtDateTime(entry.updated_at || entry.written_at)),
    entry.title && h('h3', {}, entry.title),
    h('p', { class: 'conflict-body' }, entry.body),
    entry.mood != null && h('p', { class: 'small' }, `Mood ${entry.mood}/10`),
  );
}

export async function render(root, [id]) {
  const start = await get(STORES[TYPE], id);
  const all = await getAll(STORES[TYPE]);
  const original = start?.conflict_of ? all.find((e) => e.id === start.conflict_of && !e.deleted) || start : start;
  const copy = original && all.find((e) => e.conflict_of === original.id && !e.deleted);
  if (!original || !copy) {
    mount(
      root,
      pageTitle('Nothing to compare'),
      h('p', {}, 'This entry has no other version waiting.'),
      h('a', { class: 'button', href: `#/journal/${id}` }, 'Open the entry'),
    );
    return;
  }
  const mineIsCopy = (await getMeta('my_conflict_copies', [])).includes(copy.id);
  const mine = mineIsCopy ? copy : original;
  const theirs = mineIsCopy ? original : copy;

  const keep = async (which) => {
    if (which === 'both') {
      // the copy becomes an entry of its own; conflict_of is not writable, so a new one
      await saveItem(
        TYPE,
        { ...copy, id: crypto.randomUUID(), version: null, conflict_of: null },
        { ...strip(copy), written_at: copy.written_at || localIso() },
      );
    } else {
      const chosen = which === 'mine' ? mine : theirs;
      if (chosen === copy) await saveItem(TYPE, { ...original, ...strip(copy) }, strip(copy));
    }
    await deleteItem(TYPE, copy);
    toast(which === 'both' ? 'Both versions kept' : 'Version kept');
    navigate('journal');
  };

  mount(
    root,
    pageTitle('Two versions of this entry'),
    h(
      'p',
      {},
      `“${entryTitle(original)}” was changed on two devices at the same time. Both versions are safe. Choose ` +
        `what to keep.`,
    ),
    h(
      'div',
      { class: 'compare' },
      column('Mine', mine, 'mine-title'),
      column('Theirs (another device)', theirs, 'theirs-title'),
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'primary', onclick: () => keep('mine') }, 'Keep mine'),
      h('button', { type: 'button', onclick: () => keep('theirs') }, 'Keep theirs'),
      h('button', { type: 'button', onclick: () => keep('both') }, 'Keep both'),
    ),
    h('p', { class: 'muted small' }, '“Keep both” keeps the other version as a separate entry.'),
  );
}
