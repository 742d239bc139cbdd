// Journal: the list (search on this device, filters) and the editor (autosave while
// typing, prompt picker, mood, emotion words, parts, tags, "bring to my next session",
// and sharing, private by default).

import { STORES, get, getAll, getMeta } from '../db.js';
import { ATTENTION, SYNCED, allOps, deleteItem, saveItem } from '../outbox.js';
import { navigate } from '../router.js';
import { syncEvents } from '../sync.js';
import {confirmSheet, fieldErrors, fmtDate, fmtDateTime, h, localIso, mount, pageTitle, stateBadge, swap, toast } from '../ui.js';

const TYPE = 'journal_entry';
const AUTOSAVE_MS = 700;
const KINDS = {
  free: 'Free writing',
  integration: 'Integration',
  intention: 'Intention',
  prompt_response: 'Answer to a prompt',
};
const EMOTIONS = [
  'calm', 'grateful', 'hopeful', 'tender', 'joyful', 'relieved', 'curious',
  'sad', 'anxious', 'angry', 'numb', 'ashamed', 'lonely', 'confused', 'tired',
];
const FIELDS = [
  'title', 'body', 'mood', 'emotions', 'tags', 'part_ids', 'kind', 'prompt_id', 'session_id', 'shared', 'for_session', 'written_at',
];
export const NOT_MONITORED =
  'Nobody reads Between in real time. If you are in danger, use Help now or call your local emergency number (988 in the US).';

export const entryData = (rec) => Object.fromEntries(FIELDS.filter((f) => f in rec).map((f) => [f, rec[f]]));

// Live entries, newest first; conflict copies folded into the entry they belong to.
export async function loadEntries() {
  const [all, ops] = await Promise.all([getAll(STORES[TYPE]), allOps()]);
  const refused = new Set(ops.filter((op) => op.status === 'rejected').map((op) => op.id));
  const live = all.filter((e) => !e.deleted);
  const ids = new Set(live.map((e) => e.id));
  const copiesOf = new Map();
  for (const e of live) {
    if (e.conflict_of && ids.has(e.conflict_of)) copiesOf.set(e.conflict_of, [...(copiesOf.get(e.conflict_of) || []), e]);
  }
  const shown = live
    .filter((e) => !(e.conflict_of && ids.has(e.conflict_of)))
    .map((e) => {
      const attention = copiesOf.has(e.id) || e.conflict_of || refused.has(e.id) || e._state === ATTENTION;
      return { ...e, _copies: copiesOf.get(e.id) || [], _state: attention ? ATTENTION : e._state || SYNCED };
    });
  shown.sort((a, b) => (b.written_at || '').localeCompare(a.written_at || ''));
  return shown;
}

export function entryTitle(e) {
  return e.title?.trim() || (e.body || '').split('\n')[0].slice(0, 60) || 'Untitled entry';
}

export function entryItem(e) {
  const href = e._copies?.length || e.conflict_of ? `#/conflict/${e.id}` : `#/journal/${e.id}`;
  return h(
    'li',
    { 'data-entry-id': e.id },
    h(
      'a',
      { class: 'entry-link', href },
      h('span', { class: 'title' }, entryTitle(e)),
      e.title && h('span', { class: 'excerpt' }, (e.body || '').split('\n')[0]),
      h(
        'span',
        { class: 'meta' },
        h('span', {}, fmtDate(e.written_at)),
        e.mood != null && h('span', {}, `Mood ${e.mood}/10`),
        h('span', {}, e.read_by_therapist_at ? `Read by your therapist ${fmtDate(e.read_by_therapist_at)}` : e.shared ? 'Shared' : 'Private'),
        e.for_session && h('span', {}, 'For next session'),
        stateBadge(e._state),
      ),
    ),
  );
}

// -- the list

function matches(e, words, filters) {
  if (filters.kind && e.kind !== filters.kind) return false;
  if (filters.only === 'shared' && !e.shared) return false;
  if (filters.only === 'private' && e.shared) return false;
  if (filters.only === 'session' && !e.for_session) return false;
  if (filters.only === 'attention' && e._state !== ATTENTION) return false;
  if (filters.tag && !(e.tags || []).includes(filters.tag)) return false;
  if (!words.length) return true;
  const hay = [e.title, e.body, ...(e.tags || []), ...(e.emotions || [])].join(' ').toLowerCase();
  return words.every((w) => hay.includes(w));
}

async function renderList(root) {
  const list = h('ul', { class: 'list', id: 'entry-list', 'aria-label': 'Entries' });
  const count = h('p', { class: 'muted small', role: 'status' });
  const search = h('input', { type: 'search', id: 'search', placeholder: 'A word from an entry', autocomplete: 'off' });
  const kind = h('select', { id: 'kind' }, h('option', { value: '' }, 'All kinds'), Object.entries(KINDS).map(([v, l]) => h('option', { value: v }, l)));
  const only = h(
    'select',
    { id: 'only' },
    h('option', { value: '' }, 'All entries'),
    h('option', { value: 'shared' }, 'Shared with my therapist'),
    h('option', { value: 'private' }, 'Private'),
    h('option', { value: 'session' }, 'For my next session'),
    h('option', { value: 'attention' }, 'Needs my attention'),
  );
  const tag = h('select', { id: 'tag' }, h('option', { value: '' }, 'All tags'));
  let entries = [];

  const draw = () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const filters = { kind: kind.value, only: only.value, tag: tag.value };
    const shown = entries.filter((e) => matches(e, words, filters));
    swap(list, ...shown.map(entryItem));
    count.textContent = entries.length
      ? `${shown.length} of ${entries.length} entries`
      : 'No entries yet. Whatever you write stays on this device first, then syncs.';
  };
  const reload = async () => {
    entries = await loadEntries();
    const tags = [...new Set(entries.flatMap((e) => e.tags || []))].sort();
    const chosen = tag.value;
    swap(tag, h('option', { value: '' }, 'All tags'), ...tags.map((t) => h('option', { value: t }, t)));
    tag.value = tags.includes(chosen) ? chosen : '';
    draw();
  };
  [search, kind, only, tag].forEach((el) => el.addEventListener('input', draw));

  mount(root, 
    pageTitle('Journal'),
    h('div', { class: 'actions' }, h('a', { class: 'button primary', href: '#/journal/new' }, 'New entry')),
    h('label', { for: 'search' }, 'Search on this device'),
    search,
    h(
      'details',
      { class: 'filters-box' },
      h('summary', {}, 'Filters'),
      h(
        'div',
        { class: 'filters' },
        h('div', {}, h('label', { for: 'kind' }, 'Kind'), kind),
        h('div', {}, h('label', { for: 'only' }, 'Show'), only),
        h('div', {}, h('label', { for: 'tag' }, 'Tag'), tag),
      ),
    ),
    count,
    list,
  );
  await reload();
  performance.mark('journal-list-ready');
  syncEvents.addEventListener('change', reload);
  return () => syncEvents.removeEventListener('change', reload);
}

// -- the editor

function chipToggle(label, pressed, onToggle) {
  const chip = h('button', { type: 'button', class: 'chip', 'aria-pressed': String(pressed) }, label);
  chip.addEventListener('click', () => {
    const now = chip.getAttribute('aria-pressed') !== 'true';
    chip.setAttribute('aria-pressed', String(now));
    onToggle(now);
  });
  return chip;
}

function newEntry(promptId) {
  return {
    id: crypto.randomUUID(),
    title: '',
    body: '',
    mood: null,
    emotions: [],
    tags: [],
    part_ids: [],
    kind: promptId ? 'prompt_response' : 'free',
    prompt_id: promptId || null,
    session_id: null,
    shared: false,
    for_session: false,
    written_at: localIso(),
    version: null,
    _state: null,
  };
}

async function renderEditor(root, id, promptId) {
  const isNew = id === 'new';
  const stored = isNew ? null : await get(STORES[TYPE], id);
  if (!isNew && (!stored || stored.deleted)) {
    mount(root, pageTitle('Entry not found'), h('p', {}, 'This entry is not on this device.'), h('a', { href: '#/journal' }, 'Back to the journal'));
    return null;
  }
  const rec = stored ? { ...stored } : newEntry(promptId);
  const [prompts, parts, ops] = await Promise.all([getMeta('prompts', []), getAll(STORES.part), allOps()]);
  const liveParts = parts.filter((p) => !p.deleted && !p.conflict_of);
  let dirty = false;
  let timer = null;

  const state = h('p', { class: 'state-line', role: 'status', 'aria-live': 'polite' });
  const errorsBox = h('div', { class: 'banner attention', hidden: true });
  const showState = async () => {
    const fresh = (await get(STORES[TYPE], rec.id)) || rec;
    if (fresh.version != null) rec.version = fresh.version;
    const refused = (await allOps()).filter((op) => op.id === rec.id && op.status === 'rejected');
    const hasCopies = (await getAll(STORES[TYPE])).some((e) => e.conflict_of === rec.id && !e.deleted);
    swap(state, stored || dirty || fresh._state ? stateBadge(refused.length || hasCopies ? ATTENTION : fresh._state) : '');
    errorsBox.hidden = !refused.length && !hasCopies;
    swap(errorsBox, 
      ...(hasCopies
        ? [h('p', {}, 'This entry was changed on another device too.'), h('a', { class: 'button primary', href: `#/conflict/${rec.id}` }, 'Compare the two')]
        : refused.length
          ? [h('p', {}, 'The server could not take this change: ', fieldErrors(refused[0].errors).join(' ')), h('p', {}, 'Edit the entry to send it again.')]
          : []),
    );
  };

  const save = async () => {
    clearTimeout(timer);
    timer = null;
    if (!dirty) return;
    if (!rec.body.trim()) {
      swap(state, h('span', { class: 'muted small' }, 'Write something to save this entry.'));
      return;
    }
    dirty = false;
    await saveItem(TYPE, rec, entryData(rec));
    if (isNew && location.hash.startsWith('#/journal/new')) {
      history.replaceState(null, '', `#/journal/${rec.id}`);
    }
    showState();
  };
  const changed = () => {
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(save, AUTOSAVE_MS);
  };

  // prompt picker
  const promptText = h('p', { class: 'card', id: 'prompt-text', hidden: !rec.prompt_id });
  const showPrompt = () => {
    const p = prompts.find((x) => x.id === rec.prompt_id);
    promptText.hidden = !p;
    promptText.textContent = p ? p.text : '';
  };
  const byContext = {};
  for (const p of prompts) (byContext[p.context] ||= []).push(p);
  const promptSelect = h(
    'select',
    { id: 'prompt' },
    h('option', { value: '' }, 'No prompt'),
    Object.entries(byContext).map(([ctx, list]) =>
      h('optgroup', { label: ctx.replace(/_/g, ' ') }, list.map((p) => h('option', { value: p.id }, p.text.length > 70 ? `${p.text.slice(0, 68)}…` : p.text))),
    ),
  );
  promptSelect.value = rec.prompt_id || '';
  promptSelect.addEventListener('change', () => {
    rec.prompt_id = promptSelect.value || null;
    if (rec.prompt_id && rec.kind === 'free') {
      rec.kind = 'prompt_response';
      kind.value = rec.kind;
    }
    showPrompt();
    changed();
  });
  showPrompt();

  const title = h('input', { type: 'text', id: 'title', value: rec.title, maxlength: 500, autocomplete: 'off' });
  title.addEventListener('input', () => {
    rec.title = title.value;
    changed();
  });
  const body = h('textarea', { id: 'body', value: rec.body, autofocus: isNew });
  body.addEventListener('input', () => {
    rec.body = body.value;
    changed();
  });

  // mood: not set until the person moves the slider
  const moodOut = h('output', { for: 'mood', id: 'mood-value' });
  const mood = h('input', { type: 'range', id: 'mood', min: 0, max: 10, step: 1, value: rec.mood ?? 5, 'aria-describedby': 'mood-value' });
  const moodClear = h('button', { type: 'button', class: 'link' }, 'Clear mood');
  const showMood = () => {
    moodOut.textContent = rec.mood == null ? 'Not set' : `${rec.mood} of 10`;
    moodClear.hidden = rec.mood == null;
  };
  mood.addEventListener('input', () => {
    rec.mood = Number(mood.value);
    showMood();
    changed();
  });
  moodClear.addEventListener('click', () => {
    rec.mood = null;
    showMood();
    changed();
  });
  showMood();

  const emotionWords = [...new Set([...EMOTIONS, ...(rec.emotions || [])])];
  const emotions = h(
    'div',
    { class: 'chips', role: 'group', 'aria-labelledby': 'emotions-label' },
    emotionWords.map((word) =>
      chipToggle(word, rec.emotions.includes(word), (on) => {
        rec.emotions = on ? [...rec.emotions, word] : rec.emotions.filter((w) => w !== word);
        changed();
      }),
    ),
  );

  const partsGroup = liveParts.length
    ? h(
        'div',
        { class: 'chips', role: 'group', 'aria-labelledby': 'parts-label' },
        liveParts.map((p) =>
          chipToggle(p.name, rec.part_ids.includes(p.id), (on) => {
            rec.part_ids = on ? [...rec.part_ids, p.id] : rec.part_ids.filter((x) => x !== p.id);
            changed();
          }),
        ),
      )
    : h('p', { class: 'muted small' }, 'No parts yet. ', h('a', { href: '#/parts' }, 'Add parts on your map'), ' to link them here.');

  const tags = h('input', { type: 'text', id: 'tags', value: (rec.tags || []).join(', '), autocomplete: 'off' });
  tags.addEventListener('input', () => {
    rec.tags = [...new Set(tags.value.split(',').map((t) => t.trim()).filter(Boolean))].slice(0, 30);
    changed();
  });
  const kind = h('select', { id: 'entry-kind' }, Object.entries(KINDS).map(([v, l]) => h('option', { value: v }, l)));
  kind.value = rec.kind;
  kind.addEventListener('change', () => {
    rec.kind = kind.value;
    changed();
  });

  const forSession = h('input', { type: 'checkbox', id: 'for-session', checked: rec.for_session });
  forSession.addEventListener('change', () => {
    rec.for_session = forSession.checked;
    changed();
  });

  const shareWords = h('span', { id: 'share-words' });
  const share = h('input', { type: 'checkbox', id: 'share', role: 'switch', checked: rec.shared, 'aria-describedby': 'share-words' });
  const showShare = () => {
    shareWords.textContent = rec.shared
      ? 'Shared: your care team can read this entry.'
      : 'Private: only you can see this entry.';
  };
  share.addEventListener('change', () => {
    rec.shared = share.checked;
    showShare();
    changed();
  });
  showShare();

  const remove = h('button', { type: 'button', class: 'danger' }, 'Delete entry');
  remove.addEventListener('click', async () => {
    if (!(await confirmSheet('Delete this entry?', 'It will be deleted on this device and, once synced, everywhere.', 'Delete', { danger: true }))) return;
    clearTimeout(timer);
    dirty = false;
    await deleteItem(TYPE, rec);
    toast('Entry deleted');
    navigate('journal');
  });
  const saveNow = h('button', { type: 'button', class: 'primary' }, 'Done');
  saveNow.addEventListener('click', async () => {
    await save();
    navigate('journal');
  });

  mount(root, 
    pageTitle(isNew ? 'New entry' : 'Entry'),
    h('p', { class: 'muted small' }, fmtDateTime(rec.written_at)),
    state,
    errorsBox,
    h('label', { for: 'prompt' }, 'Prompt', h('span', { class: 'hint' }, 'Optional: a question to write from.')),
    promptSelect,
    promptText,
    h('label', { for: 'title' }, 'Title', h('span', { class: 'hint' }, 'Optional.')),
    title,
    h('label', { for: 'body' }, 'Your words', h('span', { class: 'hint' }, 'Saved on this device as you type.')),
    body,
    h('label', { for: 'mood' }, 'Mood ', moodOut),
    mood,
    h('div', { class: 'scale-labels' }, h('span', {}, '0 very low'), moodClear, h('span', {}, '10 very good')),
    h('p', { id: 'emotions-label', class: 'label' }, h('strong', {}, 'Emotion words')),
    emotions,
    h('p', { id: 'parts-label' }, h('strong', {}, 'Parts this is about')),
    partsGroup,
    h('label', { for: 'tags' }, 'Tags', h('span', { class: 'hint' }, 'Separate with commas.')),
    tags,
    h('label', { for: 'entry-kind' }, 'Kind of entry'),
    kind,
    h('label', { class: 'check', for: 'for-session' }, forSession, 'Bring to my next session'),
    h('div', { class: 'privacy-toggle' }, share, h('label', { for: 'share' }, h('strong', {}, 'Share with my therapist'), shareWords)),
    h('p', { class: 'notice small' }, NOT_MONITORED),
    h('div', { class: 'actions' }, saveNow, !isNew && remove),
  );
  showState();
  const onChange = () => showState();
  syncEvents.addEventListener('change', onChange);
  const flush = () => {
    if (dirty) save();
  };
  window.addEventListener('pagehide', flush);
  return () => {
    syncEvents.removeEventListener('change', onChange);
    window.removeEventListener('pagehide', flush);
    flush();
  };
}

export function render(root, [id, promptId]) {
  if (id) return renderEditor(root, id, promptId);
  return renderList(root);
}
