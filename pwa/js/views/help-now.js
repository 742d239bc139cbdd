// Help now: the crisis card. Works with no network: the card is cached in IndexedDB on
// every sync, and the person's own contacts come from the plan on this device.

import { STORES, get, getMeta } from '../db.js';
import { session } from '../session.js';
import { h, mount, pageTitle } from '../ui.js';

export const NOT_EMERGENCY =
  'Between is not an emergency service and nobody watches entries in real time. If you are in danger or might act on thoughts of ending your life, call or text 988 (Suicide & Crisis Lifeline, US), call 911, or your local emergency number.';
const NOT_MONITORED =
  'Nobody reads Between in real time. Your therapist sees what you share at your next session, not before.';
const FALLBACK_LINES = [{ name: '988 Suicide & Crisis Lifeline (US)', tel: '988', sms_to: '988', note: 'Call or text, 24/7' }];

const telOf = (phone) => {
  if (!phone) return null;
  const digits = phone.replace(/\D/g, '');
  return (phone.trim().startsWith('+') ? '+' : '') + digits;
};

// The cached card, with the contacts, signs and steps of the plan on this device (which
// may hold edits not yet synced).
export async function crisisCard() {
  const card = (await getMeta('crisis_card')) || {};
  const plan = session.user ? await get(STORES.plan, session.user.id) : null;
  const merged = { ...card };
  if (plan) {
    merged.warning_signs = (plan.warning_signs || []).map((i) => i.text);
    merged.coping_steps = (plan.coping_steps || []).map((i) => i.text).slice(0, 5);
    merged.contacts = ['support_contacts', 'professional_contacts'].flatMap((section) =>
      (plan[section] || []).filter((c) => c.phone).map((c) => ({ ...c, tel: telOf(c.phone), kind: section.split('_')[0] })),
    );
    const lines = [...(plan.crisis_lines || []), ...(card.crisis_lines || [])].map((l) => ({
      ...l,
      tel: l.tel ?? telOf(l.phone),
      sms_to: l.sms_to ?? telOf(l.sms),
    }));
    const seen = new Set();
    merged.crisis_lines = lines.filter((l) => {
      const key = `${l.tel}|${l.sms_to}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
  return merged;
}

export async function render(root, [reason]) {
  const card = await crisisCard();
  const lines = card.crisis_lines?.length ? card.crisis_lines : FALLBACK_LINES;
  const contacts = card.contacts || [];
  root.classList.add('help');
  mount(root, 
    pageTitle('Help now'),
    reason === 'risk' &&
      h('p', { class: 'banner attention', role: 'alert' }, 'Thank you for answering honestly. Please use this card now: you do not have to wait.'),
    h('p', { class: 'notice', id: 'not-emergency' }, NOT_EMERGENCY),
    h('p', { class: 'muted', id: 'not-monitored' }, card.not_monitored || NOT_MONITORED),
    h('h2', {}, 'My people'),
    contacts.length
      ? h(
          'ul',
          { class: 'list', id: 'my-people' },
          contacts.map((c) =>
            h(
              'li',
              { class: 'card call' },
              h('span', {}, h('strong', {}, c.name), c.relation && h('span', { class: 'muted' }, ` · ${c.relation}`)),
              h('a', { class: 'button primary', href: `tel:${c.tel}` }, `Call ${c.name}`),
            ),
          ),
        )
      : h(
          'p',
          { class: 'muted' },
          session.user ? h('span', {}, 'Add the people you can call to ', h('a', { href: '#/plan' }, 'your plan'), '.') : 'Sign in to see the people in your plan.',
        ),
    card.warning_signs?.length > 0 &&
      h('section', {}, h('h2', {}, 'My warning signs'), h('ul', {}, card.warning_signs.map((s) => h('li', {}, s)))),
    card.coping_steps?.length > 0 &&
      h('section', {}, h('h2', {}, 'My steps'), h('ol', {}, card.coping_steps.map((s) => h('li', {}, s)))),
    h('h2', {}, 'Crisis lines'),
    h(
      'ul',
      { class: 'list', id: 'crisis-lines' },
      lines.map((l) =>
        h(
          'li',
          { class: 'card call' },
          h('span', {}, h('strong', {}, l.name), l.note && h('span', { class: 'muted small' }, h('br'), l.note)),
          h(
            'span',
            { class: 'segmented' },
            l.tel && h('a', { class: 'button primary', href: `tel:${l.tel}` }, `Call ${l.tel}`),
            l.sms_to && h('a', { class: 'button', href: `sms:${l.sms_to}` }, `Text ${l.sms_to}`),
          ),
        ),
      ),
    ),
    card.emergency_number &&
      h('p', {}, h('a', { class: 'button primary', href: `tel:${card.emergency_number}` }, `Emergency: call ${card.emergency_number}`)),
  );
}
