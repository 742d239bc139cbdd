// Journal: the list (search on this device, filters) and the editor. The editor is for
// writing quickly: it opens on the body (autosaved while typing) with Done always in
// reach, and folds the prompt, mood, emotion words, parts, tags, kind, session, "bring
// to my next session" and sharing (private by default) under Details.

import { careTeamSees, writingNotice } from '../care-words.js';
import { ATTENTION, SYNCED } from '../constants.js';
import { STORES, get, getAll } from '../db.js';
import { t, tNodes } from '../i18n.js';
import { onBeforeLock } from '../lock.js';
import { navigate } from '../nav.js';
import { allOps, deleteItem, saveItem } from '../outbox.js';
import { inMyLanguage, syncEvents } from '../sync.js';
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
// the kinds of entry, in the order offered: (kind, its words now)
const KINDS = () => ({
  free: t('journal.kind_free'),
  integration: t('journal.kind_integration'),
  intention: t('journal.kind_intention'),
  prompt_response: t('journal.kind_prompt_response'),
});
export function sessionWords(kind) {
  if (kind === 'dosing') return t('session.dosing');
  if (kind === 'integration') return t('session.integration');
  if (kind === 'preparation') return t('session.preparation');
  if (kind === 'maintenance') return t('session.maintenance');
  return t('session.other');
}
// The emotion words offered: an entry keeps the word's English name (its value, what a
// therapist's screen and a search on another device know), and each is shown in the
// person's language. A word the person typed elsewhere is shown as they wrote it.
const EMOTION_WORDS = () => ({
  calm: t('emotion.calm'),
  grateful: t('emotion.grateful'),
  hopeful: t('emotion.hopeful'),
  tender: t('emotion.tender'),
  joyful: t('emotion.joyful'),
  relieved: t('emotion.relieved'),
  curious: t('emotion.curious'),
  sad: t('emotion.sad'),
  anxious: t('emotion.anxious'),
  angry: t('emotion.angry'),
  numb: t('emotion.numb'),
  ashamed: t('emotion.ashamed'),
  lonely: t('emotion.lonely'),
  confused: t('emotion.confused'),
  tired: t('emotion.tired'),
});
export const emotionWord = (word) => EMOTION_WORDS()[word] ?? word;
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
  return e.title?.trim() || excerpt(firstLine) || t('journal.untitled');
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
        e.mood != null && h('span', {}, t('journal.mood_of_10', { mood: e.mood })),
        h(
          'span',
          {},
          e.read_by_therapist_at
            ? t('journal.read_by_therapist', { date: fmtDate(e.read_by_therapist_at) })
            : e.shared
              ? t('journal.shared')
              : t('journal.private'),
        ),
        e.for_session && h('span', {}, t('journal.for_next_session')),
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
  // an emotion is found by its English name and by its words in the person's language
  const emotions = (e.emotions || []).flatMap((word) => [word, emotionWord(word)]);
  const hay = [e.title, e.body, ...(e.tags || []), ...emotions].join(' ').toLowerCase();
  return words.every((w) => hay.includes(w));
}

async function renderList(root) {
  const list = h('ul', { class: 'list', id: 'entry-list', 'aria-label': t('journal.entries') });
  const count = h('p', { class: 'muted small', role: 'status' });
  const search = h('input', {
    type: 'search',
    id: 'search',
    placeholder: t('journal.search_placeholder'),
    autocomplete: 'off',
  });
  const kind = h(
    'select',
    { id: 'kind' },
    h('option', { value: '' }, t('journal.all_kinds')),
    Object.entries(KINDS()).map(([v, l]) => h('option', { value: v }, l)),
  );
  const only = h(
    'select',
    { id: 'only' },
    h('option', { value: '' }, t('journal.all_entries')),
    h('option', { value: 'shared' }, t('journal.only_shared')),
    h('option', { value: 'private' }, t('journal.private')),
    h('option', { value: 'session' }, t('journal.only_session')),
    h('option', { value: 'attention' }, t('journal.only_attention')),
  );
  const allTags = () => h('option', { value: '' }, t('journal.all_tags'));
  const tag = h('select', { id: 'tag' }, allTags());
  let entries = [];

  const draw = () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const filters = { kind: kind.value, only: only.value, tag: tag.value };
    const shown = entries.filter((e) => matches(e, words, filters));
    swap(list, ...shown.map(entryItem));
    count.textContent = entries.length
      ? t('journal.count', { shown: shown.length, count: entries.length })
      : t('journal.none_yet');
  };
  const reload = async () => {
    entries = await loadEntries();
    const tags = [...new Set(entries.flatMap((e) => e.tags || []))].sort();
    const chosen = tag.value;
    swap(tag, allTags(), ...tags.map((name) => h('option', { value: name }, name)));
    tag.value = tags.includes(chosen) ? chosen : '';
    draw();
  };
  [search, kind, only, tag].forEach((el) => el.addEventListener('input', draw));

  mount(
    root,
    pageTitle(t('journal.title')),
    h('div', { class: 'actions' }, h('a', { class: 'button primary', href: '#/journal/new' }, t('journal.new_entry'))),
    h('label', { for: 'search' }, t('journal.search')),
    search,
    h(
      'details',
      { class: 'filters-box' },
      h('summary', {}, t('journal.filters')),
      h(
        'div',
        { class: 'filters' },
        h('div', {}, h('label', { for: 'kind' }, t('journal.kind')), kind),
        h('div', {}, h('label', { for: 'only' }, t('journal.show')), only),
        h('div', {}, h('label', { for: 'tag' }, t('journal.tag')), tag),
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

const sessionLabel = (s) => [sessionWords(s.kind), fmtDate(s.starts_at), s.title].filter(Boolean).join(' · ');

// The one line under "Details": what is set, privacy first so it shows even when cut.
function detailsLine(rec) {
  return [
    rec.shared ? t('journal.shared') : t('journal.private'),
    rec.mood != null && t('journal.mood_n', { mood: rec.mood }),
    rec.emotions.length > 0 && rec.emotions.map(emotionWord).join(', '),
    rec.part_ids.length > 0 && t('journal.n_parts', { count: rec.part_ids.length }),
    rec.tags.length > 0 && t('journal.n_tags', { count: rec.tags.length }),
    rec.kind !== 'free' && KINDS()[rec.kind],
    rec.session_id && t('journal.about_session'),
    rec.for_session && t('journal.for_next_session'),
  ]
    .filter(Boolean)
    .join(' · ');
}

// A row of 0–10 choices with none chosen until the person picks one: an unset mood
// looks unset, and "Clear mood" takes it back.
function moodPicker(rec, changed) {
  const value = h('output', { id: 'mood-value' });
  const clear = h('button', { type: 'button', class: 'link' }, t('journal.clear_mood'));
  const radios = [...Array(11).keys()].map((n) =>
    h('input', { type: 'radio', name: 'mood', value: String(n), checked: rec.mood === n }),
  );
  const show = () => {
    value.textContent = rec.mood == null ? t('journal.mood_not_set') : t('journal.mood_value', { mood: rec.mood });
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
    h(
      'p',
      { class: 'mood-head' },
      h('span', { id: 'mood-label' }, h('strong', {}, t('journal.mood')), ' ', value),
      clear,
    ),
    h(
      'div',
      { class: 'mood-scale', role: 'radiogroup', 'aria-labelledby': 'mood-label' },
      radios.map((radio) => h('label', { class: 'mood-choice' }, radio, h('span', {}, radio.value))),
    ),
    h('div', { class: 'scale-labels' }, h('span', {}, t('journal.mood_low')), h('span', {}, t('journal.mood_high'))),
  );
}

// the server's words about a field name it as the editor does
const fieldLabels = () => ({
  title: t('journal.field_title'),
  body: t('journal.field_body'),
  mood: t('journal.mood'),
  emotions: t('journal.emotions'),
  tags: t('journal.tags'),
  part_ids: t('journal.parts'),
  kind: t('journal.entry_kind'),
  prompt_id: t('journal.prompt'),
  session_id: t('journal.session'),
});

// the built-in prompts' groups, by the context the server names them with
function promptContext(context) {
  if (context === 'after_dosing') return t('prompts.after_dosing');
  if (context === 'before_dosing') return t('prompts.before_dosing');
  if (context === 'parts_work') return t('prompts.parts_work');
  if (context === 'relapse_prevention') return t('prompts.relapse_prevention');
  if (context === 'modality_integration') return t('prompts.modality_integration');
  return t('prompts.other');
}

async function renderEditor(root, id, promptId, sessionId) {
  const isNew = id === 'new';
  const stored = isNew ? null : await get(STORES[TYPE], id);
  if (!isNew && (!stored || stored.deleted)) {
    mount(
      root,
      pageTitle(t('journal.not_found')),
      h('p', {}, t('journal.not_on_device')),
      h('a', { href: '#/journal' }, t('journal.back')),
    );
    return null;
  }
  const rec = stored ? { ...stored } : newEntry(promptId, sessionId);
  const homeworkId = homeworkIdOf(rec.prompt_id);
  const [prompts, parts, sessions, homework] = await Promise.all([
    inMyLanguage('prompts'),
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
            h('p', {}, t('journal.changed_elsewhere')),
            h('a', { class: 'button primary', href: `#/conflict/${rec.id}` }, t('journal.compare')),
          ]
        : refused.length
          ? [
              // the newest refusal: an op sent after it carries its fields again (outbox withRefused)
              h('p', {}, t('journal.refused'), ' ', fieldErrors(refused.at(-1).errors, fieldLabels()).join(' ')),
              h('p', {}, t('journal.edit_to_resend')),
            ]
          : []),
    );
  };

  const save = async () => {
    clearTimeout(timer);
    timer = null;
    if (!dirty) return;
    if (!rec.body.trim()) {
      swap(state, h('span', { class: 'muted small' }, t('journal.write_to_save')));
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
    h('option', { value: '' }, t('journal.no_prompt')),
    homework && h('option', { value: homeworkPromptId }, t('assign.homework_prompt')),
    Object.entries(byContext).map(([ctx, list]) =>
      h(
        'optgroup',
        { label: promptContext(ctx) },
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
      chipToggle(emotionWord(word), rec.emotions.includes(word), (on) => {
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
        tNodes('journal.no_parts', { link: h('a', { href: '#/parts' }, t('journal.add_parts')) }),
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
          .map((word) => word.trim())
          .filter(Boolean),
      ),
    ].slice(0, 30);
    changed();
  });
  const kind = h(
    'select',
    { id: 'entry-kind' },
    Object.entries(KINDS()).map(([v, l]) => h('option', { value: v }, l)),
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
    h('option', { value: '' }, t('journal.no_session')),
    aboutSessions.map((x) => h('option', { value: x.id }, sessionLabel(x))),
    rec.session_id &&
      !aboutSessions.some((x) => x.id === rec.session_id) &&
      h('option', { value: rec.session_id }, t('journal.session_elsewhere')),
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
    shareWords.textContent = rec.shared ? t('journal.share_on') : t('journal.share_off');
  };
  share.addEventListener('change', () => {
    rec.shared = share.checked;
    showShare();
    changed();
  });
  showShare();

  const remove = h('button', { type: 'button', class: 'danger' }, t('journal.delete'));
  remove.addEventListener('click', async () => {
    const sure = await confirmSheet(t('journal.delete_title'), t('journal.delete_text'), t('journal.delete_ok'), {
      danger: true,
    });
    if (!sure) return;
    clearTimeout(timer);
    dirty = false;
    await deleteItem(TYPE, rec);
    toast(t('journal.deleted'));
    navigate('journal');
  });
  const saveNow = h('button', { type: 'button', class: 'primary' }, t('journal.done'));
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
    pageTitle(isNew ? t('journal.new_entry') : t('journal.entry')),
    h('p', { class: 'muted small' }, fmtDateTime(rec.written_at)),
    errorsBox,
    promptText,
    h('label', { for: 'title' }, t('journal.field_title'), h('span', { class: 'hint' }, t('journal.optional'))),
    title,
    h('label', { for: 'body' }, t('journal.field_body'), h('span', { class: 'hint' }, t('journal.body_hint'))),
    body,
    h('p', { class: 'notice small', id: 'not-monitored' }, writingNotice()),
    h(
      'details',
      { class: 'entry-details' },
      h('summary', {}, h('strong', {}, t('journal.details')), summary),
      h('label', { for: 'prompt' }, t('journal.prompt'), h('span', { class: 'hint' }, t('journal.prompt_hint'))),
      promptSelect,
      moodPicker(rec, changed),
      h('p', { id: 'emotions-label', class: 'label' }, h('strong', {}, t('journal.emotions'))),
      emotions,
      h('p', { id: 'parts-label' }, h('strong', {}, t('journal.parts'))),
      partsGroup,
      h('label', { for: 'tags' }, t('journal.tags'), h('span', { class: 'hint' }, t('journal.tags_hint'))),
      tags,
      h('label', { for: 'entry-kind' }, t('journal.entry_kind')),
      kind,
      h(
        'label',
        { for: 'entry-session' },
        t('journal.session'),
        h('span', { class: 'hint' }, t('journal.session_hint')),
      ),
      sessionSelect,
      h('label', { class: 'check', for: 'for-session' }, forSession, t('journal.bring')),
      h(
        'div',
        { class: 'privacy-toggle' },
        share,
        h('label', { for: 'share' }, h('strong', {}, t('journal.share')), shareWords),
      ),
      h('p', { class: 'hint', id: 'care-team-sees' }, careTeamSees()),
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
