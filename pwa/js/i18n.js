// The app's words in the person's language: one JSON catalogue per language under
// /i18n/ (precached, so every language works offline), chosen from the account's locale
// (Settings), else the device's. Only the chosen catalogue is loaded: no English one
// stands behind it, since tests/unit/test_pwa_catalogues.py fails on any key a
// catalogue lacks (one that slipped through shows as its key, and is logged).
//
//   t('today.title')                        → "Today" / "Hoy"
//   t('journal.saved', { when })            → "{when}" replaced
//   t('today.streak', { count: 3 })         → a {"one", "other", …} entry picked by
//                                             Intl.PluralRules in the current language
//   tNodes('key', { who: element })         → text and elements, for words around a
//                                             name or a link
//
// Keys are literal strings at the call (never built), so the test can find each one.
// Dates and numbers go through Intl with `locale()`.

// The languages the app speaks, each named in itself (Settings offers them so: a person
// who cannot read the current language still finds theirs). One per catalogue in /i18n/.
export const LANGUAGES = { en: 'English', es: 'Español' };
const DEFAULT = 'en';
// remembered on this device so the first screen after a reload (sign-in, lock screen)
// is in the last language used before the account is known; a language tag only
const STORAGE_KEY = 'between.language';

export const i18nEvents = new EventTarget();

let language = DEFAULT;
let tag = DEFAULT; // the full BCP 47 tag for Intl ("es-MX"), its language matching `language`
let words = {};
const loaded = new Map();

// "es-MX" → "es" when Between speaks it; otherwise null
export function supported(bcp47) {
  const lang = String(bcp47 || '')
    .split(/[-_]/)[0]
    .toLowerCase();
  return Object.hasOwn(LANGUAGES, lang) ? lang : null;
}

// The device's first language Between speaks (navigator.languages, in order).
export function deviceLanguage() {
  for (const candidate of [...(navigator.languages || []), navigator.language]) {
    const lang = supported(candidate);
    if (lang) return { lang, tag: candidate };
  }
  return { lang: DEFAULT, tag: DEFAULT };
}

async function catalogue(lang) {
  if (!loaded.has(lang)) {
    const response = await fetch(`/i18n/${lang}.json`);
    if (!response.ok) throw new Error(`no catalogue for ${lang}`);
    loaded.set(lang, await response.json());
  }
  return loaded.get(lang);
}

function usableTag(candidate, lang) {
  try {
    return supported(candidate) === lang && Intl.DateTimeFormat.supportedLocalesOf([candidate]).length
      ? candidate
      : lang;
  } catch {
    return lang; // "C.UTF-8" and other tags Intl refuses
  }
}

// Switch to the language of `bcp47` (an account's locale), or the device's without one.
// Resolves once the words are loaded; emits `change` when the language changed.
export async function setLocale(bcp47) {
  const device = deviceLanguage();
  const lang = supported(bcp47) || (bcp47 ? DEFAULT : device.lang);
  const nextTag = usableTag(bcp47 || device.tag, lang);
  const next = await catalogue(lang);
  const changed = lang !== language || nextTag !== tag;
  language = lang;
  tag = nextTag;
  words = next;
  document.documentElement.lang = tag;
  try {
    localStorage.setItem(STORAGE_KEY, tag);
  } catch {
    // private mode: the account's locale still decides after sign-in
  }
  translateStatic(document);
  if (changed) i18nEvents.dispatchEvent(new Event('change'));
}

// The language remembered on this device, for the first screen before the account is known.
export function rememberedLocale() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export const currentLanguage = () => language;
export const locale = () => tag;

// An Intl formatter for the current language: made once per language and options, since
// making one costs far more than using it (a list of scores, plurals per row, dates).
//   intl(Intl.DateTimeFormat, { weekday: 'short' }).format(date)
const formatters = new Map();
export function intl(Kind, options = {}) {
  const key = `${Kind.name} ${tag} ${JSON.stringify(options)}`;
  if (!formatters.has(key)) formatters.set(key, new Kind(tag, options));
  return formatters.get(key);
}

function fill(text, vars) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

function entryFor(key, vars) {
  let entry = words[key];
  if (entry === undefined) {
    console.error(`i18n: no words for "${key}"`);
    return key;
  }
  if (typeof entry === 'object') {
    const form = intl(Intl.PluralRules).select(Number(vars.count));
    entry = entry[form] ?? entry.other;
  }
  return entry;
}

export function t(key, vars = {}) {
  return fill(entryFor(key, vars), vars);
}

// The same, for words with something drawn inside them (a name isolated in <bdi>, a
// link): a list of text and the values given, in the order the language puts them.
//   tNodes('care.told_sent', { who: h('bdi', {}, name), count: 1 })
//     → ['We have let ', <bdi>, ' know about this answer; …']
export function tNodes(key, vars = {}) {
  return entryFor(key, vars)
    .split(/(\{\w+\})/)
    .filter(Boolean)
    .map((piece) => {
      const name = /^\{(\w+)\}$/.exec(piece)?.[1];
      return name && name in vars ? vars[name] : piece;
    });
}

// Markup written in index.html: elements carry data-i18n="key" (their text) or
// data-i18n-attr="attribute:key;attribute:key".
export function translateStatic(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    const icon = el.querySelector('.tab-icon');
    el.textContent = t(el.dataset.i18n);
    if (icon) el.prepend(icon); // the tab bar's icons stay in front of the words
  }
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attribute, key] = pair.split(':');
      el.setAttribute(attribute, t(key));
    }
  }
}

export const fmtNumber = (n, options) => intl(Intl.NumberFormat, options).format(n);

// "A", "A and B", "A, B and C" in the current language, as parts: each element is
// given back as `element(value)` (a name in <bdi>, say), the words between as text
export function fmtList(items, element = (value) => value) {
  return intl(Intl.ListFormat, { type: 'conjunction' })
    .formatToParts(items)
    .map((part) => (part.type === 'element' ? element(part.value) : part.value));
}

// A language's or a country's name in the current language: 'es' → "Spanish" /
// "español"; 'ES' → "Spain" / "España". The code itself where Intl does not know it.
function displayName(type, code) {
  try {
    return intl(Intl.DisplayNames, { type }).of(code) || code;
  } catch {
    return code;
  }
}
export const languageName = (code) => displayName('language', code);
export const regionName = (code) => displayName('region', code);
