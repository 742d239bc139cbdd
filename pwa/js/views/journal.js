// Journal: the list (search on this device, filters) and the editor. The editor is for
// writing quickly: it opens on the body (autosaved while typing) with Done always in
// reach, and folds the prompt, mood, emotion words, parts, tags, kind, session, "bring
// to my next session" and sharing (private by default) under Details.

import { CARE_TEAM_SEES, WRITING_NOTICE } from '../care-words.js';
import { ATTENTION, SYNCED } from '../constants.js';
import { STORES, get, getAll, getMeta } from '../db.js';
import { t } from '../i18n.js';
import { onBeforeLock } from '../lock.js';
import { navigate } from '../nav.js';
import { allOps, deleteItem, saveItem } from '../outbox.js';
import { syncEvents } from '../sync.js';
import {
  confirmSheet,
  fieldErrors,
  fmtDate,
  fmtDateTime,
  h,
  localIso,
  mount,
  pageTitle,
  stateBadge,
  swap,
  toast,
} from '../ui.js';
import { homeworkIdOf, markHomeworkDone, setByWords } from './assignments.js';

const TYPE = 'journal_entry';
const AUTOSAVE_MS = 700;
const KINDS = {
  free: 'Free writing',
  integration: 'Integration',
  intention: 'Intention',
  prompt_response: 'Answer to a prompt',
};
export const SESSION_WORDS = {
  dosing: 'Dosing session',
  integration: 'Integration session',
  preparation: 'Preparation session',
  maintenance: 'Maintenance session',
};
const EMOTIONS = [
  'calm',
  'grateful',
  'hopeful',
  'tender',
  'joyful',
  'relieved',
  'curious',
  'sad',
  'anxious',
  'angry',
  'numb',
  'ashamed',
  'lonely',
  'confused',
  'tired',
];
const FIELDS = [
  'title',
  'body',
  'mood',
  'emotions',
  'tags',
  'part_ids',
  'kind',
  'prompt_id',
  'session_id',
  'shared',
  'for_session',
  'written_at',
];

export const entryData = (rec) => Object.fromEntries(FIELDS.filter((f) => f in rec).map((f) => [f, rec[f]]));

// Live entries, newest first; conflict copies folded into the entry they belong to.
export async function loadEntries() {
  const [all, ops] = await Promise.all([getAll(STORES[TYPE]), allOps()]);
  const refused = new Set(ops.filter((op) => op.status === 'rejected').map((op) => op.id));
  const live = all.filter((e) => !e.deleted);
  const ids = new Set(live.map((e) => e.id));
  const copiesOf = new Map();
  for (const e of live) {
    if (e.conflict_of && ids.has(e.conflict_of))
      copiesOf.set(e.conflict_of, [...(copiesOf.get(e.conflict_of) || []), e]);
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

const SEGMENTER =
  typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;

// The first n characters a person sees: an emoji with its joiners and skin tone is one.
function graphemes(text, n) {
  const out = [];
  for (const part of SEGMENTER ? SEGMENTER.segment(text) : text) {
    if (out.length === n) break;
    out.push(SEGMENTER ? part.segment : part);
  }
  return out;
}

// At most `max` characters of `text`, cut after a whole word (or, inside one endless
// word, after a whole character: never half an emoji) and marked with an ellipsis.
export function excerpt(text, max = 60) {
  const line = (text || '').trim();
  const chars = graphemes(line, max + 1);
  if (chars.length <= max) return line;
  const head = chars.slice(0, max);
  let end = head.length;
  if (!/\s/.test(chars[max])) {
    while (end > 0 && !/\s/.test(head[end - 1])) end -= 1;
    if (end < max / 3) end = head.length; // one very long word: cut inside it
  }
  return `${head.slice(0, end).join('').trimEnd()}…`;
}

export function entryTitle(e) {
  const firstLine = (e.body || '').trim().split('\n')[0];
  return e.title?.trim() || excerpt(firstLine) || 'Untitled entry';
}

export function entryItem(e) {
  const href = e._copies?.length || e.conflict_of ? `#/conflict/${e.id}` : `#/journal/${e.id}`;
  return h(
    'li',
    { 'data-entry-id': e.id },
    h(
      'a',
      { class: 'entry-link', href },
      h('bdi', { class: 'title' }, entryTitle(e)),
      e.title && h('bdi', { class: 'excerpt' }, excerpt((e.body || '').trim().split('\n')[0], 200)),
      h(
        'span',
        { class: 'meta' },
        h('span', {}, fmtDate(e.written_at)),
        e.mood != null && h('span', {}, `Mood ${e.mood}/10`),
        h(
          'span',
          {},
          e.read_by_therapist_at
            ? `Read by your therapist ${fmtDate(e.read_by_therapist_at)}`
            : e.shared
              ? 'Shared'
              : 'Private',
        ),
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
  const kind = h(
    'select',
    { id: 'kind' },
    h('option', { value: '' }, 'All kinds'),
    Object.entries(KINDS).map(([v, l]) => h('option', { value: v }, l)),
  );
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

  mount(
    root,
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
  const chip = h('button', { type: 'button', class: 'chip', 'aria-pressed': String(pressed) }, h('bdi', {}, label));
  chip.addEventListener('click', () => {
    const now = chip.getAttribute('aria-pressed') !== 'true';
    chip.setAttribute('aria-pressed', String(now));
    onToggle(now);
  });
  return chip;
}

// Written from the dosing prompt on Today: an integration entry about that session.
function newEntry(promptId, sessionId) {
  return {
    id: crypto.randomUUID(),
    title: '',
    body: '',
    mood: null,
    emotions: [],
    tags: [],
    part_ids: [],
    kind: sessionId ? 'integration' : promptId ? 'prompt_response' : 'free',
    prompt_id: promptId || null,
    session_id: sessionId || null,
    shared: false,
    for_session: false,
    written_at: localIso(),
    version: null,
    _state: null,
  };
}

const sessionLabel = (s) =>
  [SESSION_WORDS[s.kind] || 'Session', fmtDate(s.starts_at), s.title].filter(Boolean).join(' · ');
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// The one line under "Details": what is set, privacy first so it shows even when cut.
function detailsLine(rec) {
  return [
    rec.shared ? 'Shared' : 'Private',
    rec.mood != null && `Mood ${rec.mood}`,
    rec.emotions.length > 0 && rec.emotions.join(', '),
    rec.part_ids.length > 0 && plural(rec.part_ids.length, 'part', 'parts'),
    rec.tags.length > 0 && plural(rec.tags.length, 'tag', 'tags'),
    rec.kind !== 'free' && KINDS[rec.kind],
    rec.session_id && 'About a session',
    rec.for_session && 'For next session',
  ]
    .filter(Boolean)
    .join(' · ');
}

// A row of 0–10 choices with none chosen until the person picks one: an unset mood
// looks unset, and "Clear mood" takes it back.
function moodPicker(rec, changed) {
  const value = h('output', { id: 'mood-value' });
  const clear = h('button', { type: 'button', class: 'link' }, 'Clear mood');
  const radios = [...Array(11).keys()].map((n) =>
    h('input', { type: 'radio', name: 'mood', value: String(n), checked: rec.mood === n }),
  );
  const show = () => {
    value.textContent = rec.mood == null ? 'Not set' : `${rec.mood} of 10`;
    clear.hidden = rec.mood == null;
  };
  for (const radio of radios) {
    radio.addEventListener('change', () => {
      rec.mood = Number(radio.value);
      show();
      changed();
    });
  }
  clear.addEventListener('click', () => {
    radios.forEach((r) => (r.checked = false));
    rec.mood = null;
    show();
    changed();
  });
  show();
  return h(
    'div',
    { class: 'mood' },
    h('p', { class: 'mood-head' }, h('span', { id: 'mood-label' }, h('strong', {}, 'Mood'), ' ', value), clear),
    h(
      'div',
      { class: 'mood-scale', role: 'radiogroup', 'aria-labelledby': 'mood-label' },
      radios.map((radio) => h('label', { class: 'mood-choice' }, radio, h('span', {}, radio.value))),
    ),
    h('div', { class: 'scale-labels' }, h('span', {}, '0 very low'), h('span', {}, '10 very good')),
  );
}

async function renderEditor(root, id, promptId, sessionId) {
  const isNew = id === 'new';
  const stored = isNew ? null : await get(STORES[TYPE], id);
  if (!isNew && (!stored || stored.deleted)) {
    mount(
      root,
      pageTitle('Entry not found'),
      h('p', {}, 'This entry is not on this device.'),
      h('a', { href: '#/journal' }, 'Back to the journal'),
    );
    return null;
  }
  const rec = stored ? { ...stored } : newEntry(promptId, sessionId);
  const homeworkId = homeworkIdOf(rec.prompt_id);
  const [prompts, parts, sessions, homework] = await Promise.all([
    getMeta('prompts', []),
    getAll(STORES.part),
    getAll(STORES.treatment_session),
    homeworkId && get(STORES.assignment, homeworkId),
  ]);
  // the entry answers this homework (set by the therapist) while its prompt stays this
  const homeworkPromptId = homework ? rec.prompt_id : null;
  const liveParts = parts.filter((p) => !p.deleted && !p.conflict_of);
  let dirty = false;
  let timer = null;
  let inFlight = null; // the save under way, if any

  const state = h('p', { class: 'state-line', role: 'status', 'aria-live': 'polite' });
  const errorsBox = h('div', { class: 'banner attention', hidden: true });
  const showState = async () => {
    const fresh = (await get(STORES[TYPE], rec.id)) || rec;
    if (fresh.version != null) rec.version = fresh.version;
    const refused = (await allOps()).filter((op) => op.id === rec.id && op.status === 'rejected');
    const hasCopies = (await getAll(STORES[TYPE])).some((e) => e.conflict_of === rec.id && !e.deleted);
    swap(
      state,
      stored || dirty || fresh._state ? stateBadge(refused.length || hasCopies ? ATTENTION : fresh._state) : '',
    );
    errorsBox.hidden = !refused.length && !hasCopies;
    swap(
      errorsBox,
      ...(hasCopies
        ? [
            h('p', {}, 'This entry was changed on another device too.'),
            h('a', { class: 'button primary', href: `#/conflict/${rec.id}` }, 'Compare the two'),
          ]
        : refused.length
          ? [
              h('p', {}, 'The server could not take this change: ', fieldErrors(refused[0].errors).join(' ')),
              h('p', {}, 'Edit the entry to send it again.'),
            ]
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
    inFlight = saveItem(TYPE, rec, entryData(rec));
    await inFlight;
    if (isNew && location.hash.startsWith('#/journal/new')) {
      history.replaceState(null, '', `#/journal/${rec.id}`);
    }
    showState();
  };
  const summary = h('span', { class: 'details-line' });
  const changed = () => {
    summary.textContent = detailsLine(rec);
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(save, AUTOSAVE_MS);
  };
  summary.textContent = detailsLine(rec);

  // prompt picker
  const promptText = h('p', { class: 'card', id: 'prompt-text', hidden: !rec.prompt_id });
  const showPrompt = () => {
    // homework: the therapist's own words, and who set them
    const p =
      homework && rec.prompt_id === homeworkPromptId
        ? { text: `${homework.text} (${setByWords(homework)})` }
        : prompts.find((x) => x.id === rec.prompt_id);
    promptText.hidden = !p;
    promptText.textContent = p ? p.text : '';
  };
  const byContext = {};
  for (const p of prompts) (byContext[p.context] ||= []).push(p);
  const promptSelect = h(
    'select',
    { id: 'prompt' },
    h('option', { value: '' }, 'No prompt'),
    homework && h('option', { value: homeworkPromptId }, t('assign.homework_prompt')),
    Object.entries(byContext).map(([ctx, list]) =>
      h(
        'optgroup',
        { label: ctx.replace(/_/g, ' ') },
        list.map((p) => h('option', { value: p.id }, p.text.length > 70 ? `${p.text.slice(0, 68)}…` : p.text)),
      ),
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

  const title = h('input', {
    type: 'text',
    id: 'title',
    value: rec.title,
    maxlength: 500,
    autocomplete: 'off',
    dir: 'auto',
  });
  title.addEventListener('input', () => {
    rec.title = title.value;
    changed();
  });
  const body = h('textarea', {
    id: 'body',
    value: rec.body,
    autofocus: isNew,
    dir: 'auto',
    'aria-describedby': 'not-monitored',
  });
  body.addEventListener('input', () => {
    rec.body = body.value;
    changed();
  });

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
    : h(
        'p',
        { class: 'muted small' },
        'No parts yet. ',
        h('a', { href: '#/parts' }, 'Add parts on your map'),
        ' to link them here.',
      );

  const tags = h('input', {
    type: 'text',
    id: 'tags',
    value: (rec.tags || []).join(', '),
    autocomplete: 'off',
    dir: 'auto',
  });
  tags.addEventListener('input', () => {
    rec.tags = [
      ...new Set(
        tags.value
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      ),
    ].slice(0, 30);
    changed();
  });
  const kind = h(
    'select',
    { id: 'entry-kind' },
    Object.entries(KINDS).map(([v, l]) => h('option', { value: v }, l)),
  );
  kind.value = rec.kind;
  kind.addEventListener('change', () => {
    rec.kind = kind.value;
    changed();
  });

  // sessions that have begun, newest first, and whichever this entry is already about
  const now = new Date().toISOString();
  const aboutSessions = sessions
    .filter((x) => !x.deleted && (x.starts_at <= now || x.id === rec.session_id))
    .sort((a, b) => b.starts_at.localeCompare(a.starts_at));
  const sessionSelect = h(
    'select',
    { id: 'entry-session' },
    h('option', { value: '' }, 'Not about a session'),
    aboutSessions.map((x) => h('option', { value: x.id }, sessionLabel(x))),
    rec.session_id &&
      !aboutSessions.some((x) => x.id === rec.session_id) &&
      h('option', { value: rec.session_id }, 'A session not on this device'),
  );
  sessionSelect.value = rec.session_id || '';
  sessionSelect.addEventListener('change', () => {
    rec.session_id = sessionSelect.value || null;
    changed();
  });

  const forSession = h('input', { type: 'checkbox', id: 'for-session', checked: rec.for_session });
  forSession.addEventListener('change', () => {
    rec.for_session = forSession.checked;
    changed();
  });

  const shareWords = h('span', { id: 'share-words' });
  const share = h('input', {
    type: 'checkbox',
    id: 'share',
    role: 'switch',
    checked: rec.shared,
    'aria-describedby': 'share-words care-team-sees',
  });
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
    if (
      !(await confirmSheet(
        'Delete this entry?',
        'It will be deleted on this device and, once synced, everywhere.',
        'Delete',
        { danger: true },
      ))
    )
      return;
    clearTimeout(timer);
    dirty = false;
    await deleteItem(TYPE, rec);
    toast('Entry deleted');
    navigate('journal');
  });
  const saveNow = h('button', { type: 'button', class: 'primary' }, 'Done');
  saveNow.addEventListener('click', async () => {
    await save();
    // written for homework: Done hands it in (once), and goes back to Today where it was
    if (homework && rec.prompt_id === homeworkPromptId && (await get(STORES[TYPE], rec.id))) {
      const current = (await get(STORES.assignment, homework.id)) || homework;
      if (current.status !== 'done') await markHomeworkDone(current, rec.id);
      navigate('today');
    } else navigate('journal');
  });

  // Writing first: the body, then everything else folded under Details, and Done in a
  // bar that stays in reach however long the entry grows.
  mount(
    root,
    pageTitle(isNew ? 'New entry' : 'Entry'),
    h('p', { class: 'muted small' }, fmtDateTime(rec.written_at)),
    errorsBox,
    promptText,
    h('label', { for: 'title' }, 'Title', h('span', { class: 'hint' }, 'Optional.')),
    title,
    h('label', { for: 'body' }, 'Your words', h('span', { class: 'hint' }, 'Saved on this device as you type.')),
    body,
    h('p', { class: 'notice small', id: 'not-monitored' }, WRITING_NOTICE),
    h(
      'details',
      { class: 'entry-details' },
      h('summary', {}, h('strong', {}, 'Details'), summary),
      h('label', { for: 'prompt' }, 'Prompt', h('span', { class: 'hint' }, 'Optional: a question to write from.')),
      promptSelect,
      moodPicker(rec, changed),
      h('p', { id: 'emotions-label', class: 'label' }, h('strong', {}, 'Emotion words')),
      emotions,
      h('p', { id: 'parts-label' }, h('strong', {}, 'Parts this is about')),
      partsGroup,
      h('label', { for: 'tags' }, 'Tags', h('span', { class: 'hint' }, 'Separate with commas.')),
      tags,
      h('label', { for: 'entry-kind' }, 'Kind of entry'),
      kind,
      h(
        'label',
        { for: 'entry-session' },
        'Session',
        h('span', { class: 'hint' }, 'The session this entry is about, if any.'),
      ),
      sessionSelect,
      h('label', { class: 'check', for: 'for-session' }, forSession, 'Bring to my next session'),
      h(
        'div',
        { class: 'privacy-toggle' },
        share,
        h('label', { for: 'share' }, h('strong', {}, 'Share with my therapist'), shareWords),
      ),
      h('p', { class: 'hint', id: 'care-team-sees' }, CARE_TEAM_SEES),
    ),
    !isNew && h('div', { class: 'actions' }, remove),
    h('div', { class: 'editor-bar' }, state, saveNow),
  );
  showState();
  // autofocus only works once per page load; a new entry opened later gets the
  // keyboard too, once the router has put this view in the page
  if (isNew) setTimeout(() => body.isConnected && body.focus({ preventScroll: true }));
  const onChange = () => showState();
  syncEvents.addEventListener('change', onChange);
  // the last keystrokes (or the save already under way) reach the device before the page goes
  const flush = () => (dirty ? save() : inFlight);
  window.addEventListener('pagehide', flush);
  const noLockHook = onBeforeLock(flush);
  return () => {
    syncEvents.removeEventListener('change', onChange);
    window.removeEventListener('pagehide', flush);
    noLockHook();
    flush();
  };
}

export function render(root, [id, promptId, sessionId]) {
  if (id) return renderEditor(root, id, promptId, sessionId);
  return renderList(root);
}
