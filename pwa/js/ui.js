// Small DOM helpers. Text always goes in as text nodes (never HTML), and nothing sets a
// style attribute: the CSP allows neither inline script nor inline style.

import { ATTENTION, LOCAL, SYNCED } from './constants.js';
import { intl, t } from './i18n.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const SVG_TAGS = new Set([
  'svg',
  'g',
  'circle',
  'line',
  'path',
  'rect',
  'text',
  'polyline',
  'title',
  'defs',
  'marker',
  'desc',
  'tspan',
]);

function append(el, child) {
  if (child == null || child === false) return;
  if (Array.isArray(child)) child.forEach((c) => append(el, c));
  else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
}

// append/replace children, skipping null and false (the DOM would print "false")
export function mount(parent, ...children) {
  append(parent, children);
  return parent;
}
export function swap(parent, ...children) {
  parent.replaceChildren();
  return mount(parent, ...children);
}

export function h(tag, props, ...children) {
  const svg = SVG_TAGS.has(tag);
  const el = svg ? document.createElementNS(SVG_NS, tag) : document.createElement(tag);
  append(el, children);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (!svg && ['value', 'checked', 'selected', 'disabled', 'hidden'].includes(key)) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  return el;
}

// a record's sync state in words (outbox.js sets the state)
export function stateWords(state) {
  if (state === SYNCED) return t('state.synced');
  if (state === ATTENTION) return t('state.attention');
  return t('state.local');
}

export function stateBadge(state) {
  const s = state || LOCAL;
  return h('span', { class: `state state-${s}`, 'data-state': s }, stateWords(s));
}

// what a screen says when the network is missing: a request that never reached the
// server, and a screen outside the precached shell opened offline
export const offlineTryAgain = () => t('offline.try_again');
export const needsConnection = () => t('offline.needs_connection');

let toastTimer;
export function toast(message) {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 3500);
}

// A bottom sheet; resolves with the value of the button pressed (or null: cancelled).
// Not showModal(): a modal dialog makes the whole page inert, Help now with it, and in a
// bad moment two taps are one too many. So the page is made inert here, all but Help
// now, which stays above the backdrop; tapping it cancels the sheet and opens Help now.
const HELP_NOW = 'help-now-button';

function inertAllBut(keep) {
  const made = [];
  const walk = (el) => {
    for (const child of el.children) {
      if (keep.some((k) => k === child)) continue;
      if (keep.some((k) => child.contains(k))) walk(child);
      else if (!child.inert) {
        child.inert = true;
        made.push(child);
      }
    }
  };
  walk(document.body);
  return () => made.forEach((el) => (el.inert = false));
}

export function sheet(title, body, buttons = [{ label: t('ui.close'), value: null }]) {
  return new Promise((resolve) => {
    const id = `sheet-${Math.random().toString(36).slice(2)}`;
    const opener = document.activeElement;
    const backdrop = h('div', { class: 'sheet-backdrop' });
    const dialog = h(
      'dialog',
      { 'aria-labelledby': id, class: 'sheet' },
      h('h2', { id }, title),
      body,
      h(
        'div',
        { class: 'actions' },
        buttons.map((b) =>
          h('button', { type: 'button', class: b.class || '', onclick: () => dialog.close(b.value) }, b.label),
        ),
      ),
    );
    const help = document.getElementById(HELP_NOW);
    let helpTapped = false;
    const cancel = () => dialog.open && dialog.close();
    const onHelp = () => {
      helpTapped = true;
      cancel();
    };
    const onKey = (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        cancel();
      }
    };
    document.body.append(backdrop, dialog);
    // the toast stays live: a sheet may announce through it ("Relation removed")
    const restore = inertAllBut([dialog, help, document.getElementById('toast')].filter(Boolean));
    document.body.classList.add('sheet-open');
    help?.addEventListener('click', onHelp);
    window.addEventListener('hashchange', cancel); // a sheet never outlives its screen
    document.addEventListener('keydown', onKey);
    dialog.addEventListener('close', () => {
      help?.removeEventListener('click', onHelp);
      window.removeEventListener('hashchange', cancel);
      document.removeEventListener('keydown', onKey);
      restore();
      if (!document.querySelector('dialog.sheet[open]')) document.body.classList.remove('sheet-open');
      backdrop.remove();
      dialog.remove();
      if (!helpTapped && opener?.isConnected) opener.focus({ preventScroll: true });
      resolve(dialog.returnValue === '' ? null : dialog.returnValue);
    });
    dialog.show();
    if (!dialog.contains(document.activeElement)) {
      dialog.querySelector('[autofocus], input, select, textarea, button, a[href]')?.focus();
    }
  });
}

export async function confirmSheet(title, text, okLabel, { danger = false } = {}) {
  const answer = await sheet(title, h('p', {}, text), [
    { label: t('ui.cancel'), value: 'no' },
    { label: okLabel, value: 'yes', class: danger ? 'danger primary' : 'primary' },
  ]);
  return answer === 'yes';
}

// An ISO timestamp with this device's UTC offset, the way the API keeps "written at".
export function localIso(date = new Date()) {
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  const off = -date.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(off / 60)}:${pad(off % 60)}`
  );
}

// Dates in the person's language (i18n's locale: the account's, else the device's),
// through i18n's formatters, made once per language and not per date.
const DATE_OPTIONS = { weekday: 'short', day: 'numeric', month: 'short' };
const FORMATS = {
  date: DATE_OPTIONS,
  dateYear: { ...DATE_OPTIONS, year: 'numeric' },
  time: { hour: 'numeric', minute: '2-digit' }, // no seconds
  weekday: { weekday: 'short' },
};
const formatter = (name) => intl(Intl.DateTimeFormat, FORMATS[name]);
// "2024-05-03" is a calendar day, not UTC midnight (which is the day before west of UTC)
const toDate = (iso) => (/^\d{4}-\d{2}-\d{2}$/.test(iso) ? new Date(`${iso}T00:00`) : new Date(iso));
const dateOf = (d) => formatter(d.getFullYear() === new Date().getFullYear() ? 'date' : 'dateYear').format(d);
export const fmtDate = (iso) => (iso ? dateOf(toDate(iso)) : '');
export const fmtDateTime = (iso) => (iso ? `${dateOf(toDate(iso))}, ${formatter('time').format(toDate(iso))}` : '');
export const fmtWeekday = (date) => formatter('weekday').format(date);
export const dayKey = (iso) => {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
};

// The server's words about each field ("email: Not a valid email address."), a field
// named as its form names it where `labels` knows it ({ email: 'Correo electrónico' }),
// so the words are all in one language.
export function fieldErrors(errors, labels = {}) {
  const items = [];
  const walk = (value, path) => {
    if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
      items.push(`${labels[path.split('.')[0]] ?? path}: ${value.join(' ')}`);
    else if (value && typeof value === 'object')
      Object.entries(value).forEach(([k, v]) => walk(v, path ? `${path}.${k}` : k));
  };
  walk(errors, '');
  return items;
}

export function pageTitle(text) {
  document.title = `${text} · Between`;
  return h('h1', { tabindex: '-1', id: 'page-title' }, text);
}

// what a screen outside the precached shell shows when it is opened offline
export function offlineScreen(root) {
  return mount(root, pageTitle(t('offline.title')), h('p', {}, needsConnection()));
}
