// Help now: the crisis card. Works with no network: the card is cached in IndexedDB on
// every sync, and the person's own contacts come from the plan on this device.
//
// The first screen holds what to do, not what to read: the person's own first contact,
// the crisis line and the emergency number as call and text buttons, then one line on
// who was told. The rest of the plan follows below. After a risk answer (#/help/risk/<id>)
// that line follows the answer: not yet sent (offline), sending, sent.
//
// The lines are the card's: the server chooses them by the patient's region
// (config/crisis_lines.json), with hours, languages, and text or chat where a line has
// them. With no card on this device (signed out, never synced) nobody knows the region,
// so no country's lines are guessed: "call your local emergency number", which Help now
// always names, for a person away from their region too.

import { careTeamNames, helpLine, toldLine } from '../care-words.js';
import { LOCKED_HELP, STORES, get, getMeta, isLocked } from '../db.js';
import { currentLanguage, languageName, t, tNodes } from '../i18n.js';
import { allOps } from '../outbox.js';
import { session } from '../session.js';
import { status, syncEvents } from '../sync.js';
import { h, mount, pageTitle, swap } from '../ui.js';

const telOf = (phone) => {
  if (!phone) return null;
  const digits = phone.replace(/\D/g, '');
  return (phone.trim().startsWith('+') ? '+' : '') + digits;
};

// The cached card, with the contacts, signs and steps of the plan on this device (which
// may hold edits not yet synced). Locked, only the lock screen's copy can be read: the
// crisis lines, and the person's own contacts if they chose to show them there.
export async function crisisCard() {
  if (isLocked()) return (await getMeta(LOCKED_HELP)) || {};
  const card = (await getMeta('crisis_card')) || {};
  const plan = session.user ? await get(STORES.plan, session.user.id) : null;
  const merged = { ...card };
  if (plan) {
    merged.warning_signs = (plan.warning_signs || []).map((i) => i.text);
    merged.coping_steps = (plan.coping_steps || []).map((i) => i.text).slice(0, 5);
    merged.reasons_for_living = (plan.reasons_for_living || []).map((i) => i.text);
    merged.contacts = ['support_contacts', 'professional_contacts'].flatMap((section) =>
      (plan[section] || [])
        .filter((c) => c.phone)
        .map((c) => ({ ...c, tel: telOf(c.phone), kind: section.split('_')[0] })),
    );
    const lines = [...(plan.crisis_lines || []), ...(card.crisis_lines || [])].map((l) => ({
      ...l,
      tel: l.tel ?? telOf(l.phone),
      sms_to: l.sms_to ?? telOf(l.sms),
    }));
    // the plan's copy of a region line keeps its place and words, and gains the card's
    // hours, languages and chat
    const seen = new Map();
    merged.crisis_lines = lines.filter((l) => {
      const key = `${l.tel}|${l.sms_to}`;
      const known = seen.get(key);
      if (known) {
        for (const [k, v] of Object.entries(l)) if (known[k] == null || known[k] === '') known[k] = v;
        return false;
      }
      seen.set(key, l);
      return true;
    });
  }
  return merged;
}

// The crisis line and emergency number to show first; check-in screens name them too.
// No card, or a region with no lines: no line and no number, and the words say to call
// the local emergency number; never another country's lines.
export function firstHelp(card) {
  const lines = card.crisis_lines || [];
  const line = lines.find((l) => l.tel) || lines[0];
  const emergency = card.emergency_number || null;
  return { lines, line, emergency };
}

const who = (name) => h('bdi', {}, name);

// the words of a button around a name: they keep their line, the name is cut short
const around = (parts) => parts.map((part) => (typeof part === 'string' ? h('span', { class: 'verb' }, part) : part));

function callButtons(tel, sms, name, primary = true) {
  return h(
    'p',
    { class: 'call-buttons' },
    tel &&
      h(
        'a',
        { class: `button${primary ? ' primary' : ''}`, href: `tel:${tel}` },
        name ? around(tNodes('help.call_person', { who: who(name) })) : t('help.call_number', { number: tel }),
      ),
    sms &&
      h(
        'a',
        { class: 'button', href: `sms:${sms}` },
        name ? around(tNodes('help.text_person', { who: who(name) })) : t('help.text_number', { number: sms }),
      ),
  );
}

// A line's words in the reader's language: a region's line has them in every language
// the app speaks (`words`, from config/crisis_lines.json); a note the person wrote in
// their plan (not one of the region's) is theirs, shown as they wrote it.
function lineText(l, field) {
  const notes = Object.values(l.words || {}).map((w) => w.note);
  if (field === 'note' && l.note && !notes.includes(l.note)) return l.note;
  return l.words?.[currentLanguage()]?.[field] ?? l[field];
}

// "Free, 24/7 · Spanish": the line's words, its hours where they do not say them, and
// its languages, each named in the reader's language
function lineDetails(l) {
  const note = lineText(l, 'note');
  const hours = lineText(l, 'hours');
  const languages = (l.languages || []).map(languageName).join(', ');
  return [note, hours && !(note || '').includes(hours) ? hours : null, languages].filter(Boolean).join(' · ');
}

// only a web address opens from the chat button (a plan's line is the person's own text)
const safeChat = (url) => (typeof url === 'string' && url.startsWith('https://') ? url : null);

function contactRow(c, primary) {
  return h(
    'li',
    { class: 'call-row' },
    h(
      'p',
      { class: 'call-who' },
      h('strong', {}, who(c.name)),
      c.relation && h('span', { class: 'muted' }, ' · ', who(c.relation)),
    ),
    callButtons(c.tel, c.tel, c.name, primary),
  );
}

// On the first screen a line is its name, its words and its buttons, so the call and who
// was told still fit a small phone; the list below gives every line's hours, languages
// and chat, the first one's too (without its buttons again).
function lineRow(l, { primary = false, brief = false, buttons = true } = {}) {
  const details = brief ? lineText(l, 'note') : lineDetails(l);
  const chat = !brief && safeChat(l.chat);
  return h(
    'li',
    { class: 'call-row' },
    h(
      'p',
      { class: 'call-who' },
      h('strong', {}, who(l.name)),
      details && h('span', { class: 'muted' }, ' · ', details),
      chat && [' · ', h('a', { href: chat, target: '_blank', rel: 'noopener noreferrer' }, t('help.chat'))],
    ),
    buttons && callButtons(l.tel, l.sms_to, null, primary),
  );
}

// Where the risk answer is: still in the outbox (and why), or with the server.
async function phaseOf(checkinId) {
  const ops = (await allOps()).filter((op) => op.type === 'checkin' && (!checkinId || op.id === checkinId));
  if (!ops.length) return 'sent';
  if (!navigator.onLine) return 'waiting';
  if (ops.some((op) => op.status !== 'pending') || status.phase === 'error' || status.phase === 'expired')
    return 'retry';
  return 'sending';
}

export async function render(root, [reason, checkinId]) {
  const risk = reason === 'risk';
  const card = await crisisCard();
  const { lines, line, emergency } = firstHelp(card);
  const contacts = card.contacts || [];
  const [first, ...others] = contacts;
  const told = h('p', { class: 'care-line', id: 'care-line', role: risk ? 'status' : null });
  root.classList.add('help');
  mount(
    root,
    pageTitle(t('help.title')),
    risk && h('p', { class: 'risk-thanks', role: 'alert' }, t('help.risk_thanks')),
    h(
      'ul',
      { class: 'list first-help', id: 'first-help', 'aria-label': t('help.call_or_text_now') },
      first && contactRow(first, true),
      line && lineRow(line, { primary: true, brief: true }),
      emergency &&
        h(
          'li',
          { class: 'call-row' },
          h('p', { class: 'call-who' }, h('strong', {}, t('help.emergency'))),
          callButtons(emergency, null, null, true),
        ),
    ),
    // in the app's words, not the card's: a language chosen offline shows here at once
    !emergency &&
      h(
        'p',
        { id: 'local-emergency' },
        card.emergency_words ? t('help.local_emergency_long') : t('help.local_emergency'),
      ),
    told,
    emergency && h('p', { class: 'muted', id: 'local-emergency' }, t('help.somewhere_else')),
    !first &&
      !isLocked() &&
      h(
        'p',
        { class: 'muted' },
        session.user
          ? h('span', {}, tNodes('help.add_people', { plan: h('a', { href: '#/plan' }, t('help.your_plan')) }))
          : t('help.sign_in_for_people'),
      ),
    others.length > 0 &&
      h(
        'section',
        {},
        h('h2', {}, t('help.more_people')),
        h(
          'ul',
          { class: 'list', id: 'my-people' },
          others.map((c) => contactRow(c, false)),
        ),
      ),
    card.warning_signs?.length > 0 &&
      h(
        'section',
        {},
        h('h2', {}, t('help.warning_signs')),
        h(
          'ul',
          {},
          card.warning_signs.map((s) => h('li', {}, s)),
        ),
      ),
    card.coping_steps?.length > 0 &&
      h(
        'section',
        {},
        h('h2', {}, t('help.steps')),
        h(
          'ol',
          {},
          card.coping_steps.map((s) => h('li', {}, s)),
        ),
      ),
    card.reasons_for_living?.length > 0 &&
      h(
        'section',
        {},
        h('h2', {}, t('help.reasons')),
        h(
          'ul',
          {},
          card.reasons_for_living.map((s) => h('li', {}, s)),
        ),
      ),
    lines.length > 0 &&
      h(
        'section',
        {},
        h('h2', {}, t('help.crisis_lines')),
        h(
          'ul',
          { class: 'list', id: 'crisis-lines' },
          lines.map((l) => lineRow(l, { buttons: l !== line })),
        ),
      ),
  );

  if (!risk || !session.user) {
    mount(told, helpLine());
    return undefined;
  }
  // the names this device knows first (no wait for the network), the server's when it answers
  let names = await careTeamNames({ fresh: false });
  const draw = async () => swap(told, toldLine(names, await phaseOf(checkinId)));
  await draw();
  const redraw = () => draw().catch(() => {});
  careTeamNames()
    .then((fresh) => {
      names = fresh ?? names;
      return redraw();
    })
    .catch(() => {});
  syncEvents.addEventListener('status', redraw);
  syncEvents.addEventListener('change', redraw);
  window.addEventListener('online', redraw);
  window.addEventListener('offline', redraw);
  return () => {
    syncEvents.removeEventListener('status', redraw);
    syncEvents.removeEventListener('change', redraw);
    window.removeEventListener('online', redraw);
    window.removeEventListener('offline', redraw);
  };
}
