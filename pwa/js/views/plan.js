// The relapse-prevention plan by section, with examples, "review due", revisions
// (online), and a plan changed on two devices at once kept as a conflict revision.

import * as api from '../api.js';
import { ATTENTION, DAY_MS, PLAN_SECTIONS } from '../constants.js';
import { STORES, get, getMeta, setMeta } from '../db.js';
import { navigate } from '../nav.js';
import { allOps, saveItem } from '../outbox.js';
import { session } from '../session.js';
import { syncEvents } from '../sync.js';
import {
  fieldErrors,
  fmtDate,
  fmtDateTime,
  h,
  localIso,
  mount,
  pageTitle,
  sheet,
  stateBadge,
  swap,
  toast,
} from '../ui.js';

const PHONE_PATTERN = '\\+?[0-9 ()\\-.]{2,31}';
const SETTINGS = ['review_every_days', 'last_reviewed_at', 'shared'];

const emptyPlan = (id) => ({
  id,
  version: 0,
  ...Object.fromEntries(PLAN_SECTIONS.map((s) => [s.key, []])),
  review_every_days: null,
  last_reviewed_at: null,
  shared: false,
});

function planData(plan) {
  const data = {};
  for (const s of PLAN_SECTIONS) data[s.key] = plan[s.key] || [];
  for (const k of SETTINGS) if (k in plan) data[k] = plan[k];
  return data;
}

function reviewDue(plan) {
  if (plan.review_due) return true;
  if (!plan.review_every_days || !plan.last_reviewed_at) return false;
  return Date.now() >= new Date(plan.last_reviewed_at).getTime() + plan.review_every_days * DAY_MS;
}

function itemRows(section, items, onChange) {
  const list = h('ul', { class: 'list' });
  const draw = () => {
    swap(
      list,
      ...items.map((item, i) => {
        const id = `${section.key}-${i}`;
        const fields = section.contact
          ? [
              ['name', 'Name', 'text'],
              ['relation', 'Who they are', 'text'],
              ['phone', 'Phone', 'tel'],
            ]
          : section.line
            ? [
                ['name', 'Name', 'text'],
                ['phone', 'Phone to call', 'tel'],
                ['sms', 'Number to text', 'tel'],
              ]
            : [['text', section.key === 'maintenance_criteria' ? 'Sign' : 'Item', 'text']];
        return h(
          'li',
          { class: section.contact || section.line ? 'card' : 'check' },
          fields.map(([f, label, type]) => {
            const input = h('input', {
              type,
              id: `${id}-${f}`,
              value: item[f] || '',
              pattern: type === 'tel' ? PHONE_PATTERN : null,
              autocomplete: 'off',
              'aria-label': fields.length === 1 ? `${section.title}, item ${i + 1}` : null,
            });
            input.addEventListener('input', () => {
              item[f] = input.value;
              onChange();
            });
            return fields.length === 1 ? input : [h('label', { for: input.id }, label), input];
          }),
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              'aria-label': `Remove item ${i + 1} from ${section.title}`,
              onclick: () => {
                items.splice(i, 1);
                draw();
                onChange();
              },
            },
            'Remove',
          ),
        );
      }),
    );
  };
  draw();
  const add = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        items.push(
          section.contact
            ? { name: '', relation: '', phone: '' }
            : section.line
              ? { name: '', phone: '', sms: '' }
              : { text: '' },
        );
        draw();
        onChange();
        list.querySelector('li:last-child input')?.focus();
      },
    },
    section.contact || section.line ? 'Add someone' : 'Add',
  );
  return [list, add];
}

function clean(plan) {
  const out = { ...plan };
  for (const s of PLAN_SECTIONS) {
    out[s.key] = (plan[s.key] || [])
      .map((item) => {
        const c = { ...item };
        for (const k of Object.keys(c)) if (typeof c[k] === 'string') c[k] = c[k].trim();
        if (s.contact || s.line) {
          for (const k of ['phone', 'sms']) if (k in c && !c[k]) c[k] = null;
        }
        return c;
      })
      .filter((c) => (s.contact || s.line ? c.name && (c.phone || c.sms || s.contact) : c.text));
  }
  return out;
}

async function revisionsCard(restore) {
  const card = h(
    'section',
    { class: 'card', 'aria-labelledby': 'revisions-title' },
    h('h2', { id: 'revisions-title' }, 'Revision history'),
  );
  if (!navigator.onLine) {
    mount(card, h('p', { class: 'muted' }, 'Connect to see earlier versions of your plan.'));
    return card;
  }
  try {
    const revisions = await api.get('/plan/revisions');
    mount(
      card,
      revisions.length
        ? h(
            'ul',
            { class: 'list' },
            revisions
              .slice(0, 20)
              .map((r) =>
                h(
                  'li',
                  {},
                  h(
                    'button',
                    { type: 'button', class: 'link', onclick: () => showRevision(r.number, restore) },
                    `Version ${r.number}`,
                  ),
                  ` · ${fmtDateTime(r.created_at)} · ` +
                    `${r.author_role === 'therapist' ? `by ${r.author_name} (therapist)` : 'by you'}`,
                  r.conflict && h('span', { class: 'state state-attention' }, ' from another device'),
                  r.summary && h('span', { class: 'muted small' }, ` · ${r.summary}`),
                ),
              ),
          )
        : h('p', { class: 'muted' }, 'No saved versions yet.'),
    );
  } catch {
    mount(card, h('p', { class: 'muted' }, 'Could not load the history just now.'));
  }
  return card;
}

const itemText = (i) => i.text || [i.name, i.phone || i.sms].filter(Boolean).join(', ');

function revisionBody(rev) {
  return h(
    'div',
    { class: 'plan-version' },
    PLAN_SECTIONS.filter((s) => (rev[s.key] || []).length).map((s) =>
      h(
        'section',
        {},
        h('h3', {}, s.title),
        h(
          'ul',
          {},
          rev[s.key].map((i) => h('li', {}, itemText(i))),
        ),
      ),
    ),
  );
}

const SETTING_WORDS = {
  shared: (c) => (c.to ? 'Shared with your therapist' : 'No longer shared with your therapist'),
  review_every_days: (c) => (c.to ? `Review reminder: every ${c.to} days` : 'Review reminder turned off'),
  last_reviewed_at: () => 'Marked as reviewed',
  region: () => 'Crisis lines for another region',
};

// What a version changed from the one before (the server's /plan/diff); the first
// version added everything in it.
function changesOf(rev, diff) {
  const sections =
    diff?.sections ??
    Object.fromEntries(
      PLAN_SECTIONS.filter((s) => (rev[s.key] || []).length).map((s) => [s.key, { added: rev[s.key], removed: [] }]),
    );
  const settings = Object.entries(diff?.settings || {}).filter(([k]) => SETTING_WORDS[k]);
  const shown = PLAN_SECTIONS.filter((s) => sections[s.key]);
  return h(
    'section',
    { class: 'plan-diff' },
    h('h3', {}, 'What changed in this version'),
    !diff && h('p', { class: 'muted small' }, 'The first saved version of your plan.'),
    shown.map((s) => {
      const d = sections[s.key];
      return h(
        'section',
        {},
        h('h4', {}, s.title),
        h(
          'ul',
          {},
          (d.added || []).map((i) =>
            h('li', {}, h('span', { class: 'added' }, 'Added:'), ' ', h('span', {}, itemText(i))),
          ),
          (d.removed || []).map((i) =>
            h('li', {}, h('span', { class: 'removed' }, 'Removed:'), ' ', h('span', {}, itemText(i))),
          ),
          d.reordered && h('li', {}, 'Put in a new order'),
        ),
      );
    }),
    settings.length > 0 &&
      h(
        'ul',
        {},
        settings.map(([k, c]) => h('li', {}, SETTING_WORDS[k](c))),
      ),
    !shown.length && !settings.length && h('p', { class: 'muted' }, 'Nothing changed in this version.'),
  );
}

async function showRevision(number, restore) {
  let rev;
  try {
    rev = await api.get(`/plan/revisions/${number}`);
  } catch (err) {
    return toast(
      err instanceof api.NetworkError
        ? 'Connect to see earlier versions of your plan'
        : 'Could not open that version just now',
    );
  }
  let diff = null;
  let compared = true;
  if (number > 1)
    diff = await api.get(`/plan/diff?from=${number - 1}&to=${number}`).catch(() => ((compared = false), null));
  const answer = await sheet(
    `Version ${number}`,
    h(
      'div',
      { class: 'plan-version' },
      compared
        ? changesOf(rev, diff)
        : h('p', { class: 'muted' }, 'Could not compare this version with the one before just now.'),
      h('h3', {}, 'The whole plan in this version'),
      revisionBody(rev),
      h(
        'p',
        { class: 'muted small' },
        'Restoring saves this version’s sections as a new version. Nothing is lost: your current plan stays ' +
          'in the history. Sharing stays as it is now.',
      ),
    ),
    [
      { label: 'Close', value: null },
      { label: 'Restore this version', value: 'restore', class: 'primary' },
    ],
  );
  if (answer === 'restore') await restore(rev);
}

export async function render(root) {
  const id = session.user.id;
  const stored = await get(STORES.plan, id);
  const plan = structuredClone(stored || emptyPlan(id));
  const ops = (await allOps()).filter((op) => op.type === 'plan' && op.status === 'rejected');
  const conflictRevision = await getMeta('plan_conflict');
  let timer = null;
  const state = h(
    'p',
    { class: 'state-line', role: 'status' },
    stored ? stateBadge(ops.length || conflictRevision ? ATTENTION : stored._state) : '',
  );
  const note = h('p', { class: 'muted', role: 'status', id: 'plan-note' });
  // what was last saved: a save that changes nothing would be an empty version
  const snapshot = () => JSON.stringify(planData(clean(plan)));
  let saved = snapshot();

  // true if a new version was queued; `quiet` for the autosave, which says nothing
  // when there is nothing to save
  const save = async (words = 'Plan saved on this device', { quiet = false } = {}) => {
    clearTimeout(timer);
    timer = null;
    const now = snapshot();
    if (now === saved) {
      if (!quiet) note.textContent = 'Nothing to save: your plan is the same as the last saved version.';
      return false;
    }
    const cleaned = clean(plan);
    await saveItem('plan', { ...cleaned, version: plan.version ?? stored?.version ?? 0 }, planData(cleaned));
    saved = now;
    note.textContent = '';
    swap(state, stateBadge('local'));
    toast(words);
    return true;
  };
  const changed = () => {
    note.textContent = '';
    clearTimeout(timer);
    timer = setTimeout(() => save(undefined, { quiet: true }), 1500);
  };
  const restore = async (rev) => {
    for (const s of PLAN_SECTIONS) plan[s.key] = structuredClone(rev[s.key] || []);
    if (await save(`Version ${rev.number} is your plan again, saved as a new version`)) navigate('plan');
  };

  const banners = [];
  if (reviewDue(plan)) {
    banners.push(
      h(
        'div',
        { class: 'banner attention', id: 'review-due' },
        h(
          'p',
          {},
          'Your plan is due for a review. Read it through, change what no longer fits, then mark it reviewed.',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'primary',
            onclick: async (e) => {
              plan.last_reviewed_at = localIso();
              await save('Marked as reviewed');
              e.target.closest('.banner').remove();
            },
          },
          'Mark as reviewed',
        ),
      ),
    );
  }
  if (ops.length) {
    banners.push(
      h(
        'div',
        { class: 'banner attention' },
        h(
          'p',
          {},
          `The server could not take your last change: ${fieldErrors(ops[0].errors).join(' ')} Fix it below ` +
            `and save again.`,
        ),
      ),
    );
  }
  if (conflictRevision) {
    banners.push(
      h(
        'div',
        { class: 'banner attention' },
        h(
          'p',
          {},
          `Your plan was changed on two devices at once. The other version is kept as version ${conflictRevision}.`,
        ),
        h(
          'button',
          {
            type: 'button',
            onclick: async () => {
              let rev;
              try {
                rev = await api.get(`/plan/revisions/${conflictRevision}`);
              } catch {
                return toast('Connect to compare the two versions');
              }
              const answer = await sheet('The other version', revisionBody(rev), [
                { label: 'Keep the current plan', value: 'current' },
                { label: 'Use the other version', value: 'other', class: 'primary' },
              ]);
              if (answer === 'other') {
                for (const s of PLAN_SECTIONS) plan[s.key] = rev[s.key] || [];
                await save('The other version is now your plan');
              }
              if (answer) {
                await setMeta('plan_conflict', null);
                navigate('plan'); // drawn afresh, through the router's cleanup
              }
            },
          },
          'Compare',
        ),
      ),
    );
  }

  const sections = PLAN_SECTIONS.map((s) => {
    plan[s.key] = plan[s.key] || [];
    const count = h('span', { class: 'muted small' }, ` (${plan[s.key].length})`);
    const [list, add] = itemRows(s, plan[s.key], () => {
      count.textContent = ` (${plan[s.key].length})`;
      changed();
    });
    return h(
      'details',
      {
        class: 'card',
        open:
          plan[s.key].length === 0 && ['warning_signs', 'coping_steps', 'support_contacts'].includes(s.key)
            ? true
            : null,
      },
      h('summary', {}, h('strong', {}, s.title), count),
      h('p', { class: 'muted' }, s.about),
      s.examples && h('p', { class: 'small muted' }, 'For example: ', s.examples.map((e) => `“${e}”`).join(', ')),
      list,
      add,
    );
  });

  const every = h(
    'select',
    { id: 'review-every' },
    h('option', { value: '' }, 'No reminder'),
    [30, 60, 90, 180].map((d) => h('option', { value: String(d) }, `Every ${d} days`)),
  );
  every.value = plan.review_every_days ? String(plan.review_every_days) : '';
  every.addEventListener('change', () => {
    plan.review_every_days = every.value ? Number(every.value) : null;
    if (plan.review_every_days && !plan.last_reviewed_at) plan.last_reviewed_at = localIso();
    changed();
  });
  const shared = h('input', { type: 'checkbox', id: 'plan-shared', role: 'switch', checked: Boolean(plan.shared) });
  shared.addEventListener('change', () => {
    plan.shared = shared.checked;
    changed();
  });

  let revisions = await revisionsCard(restore);
  mount(
    root,
    pageTitle('My plan'),
    h(
      'p',
      { class: 'muted' },
      'A plan for hard times, made while things are calm. Help now shows your warning signs, steps and people from it.',
    ),
    state,
    ...banners,
    ...sections,
    h('label', { for: 'review-every' }, 'Review my plan'),
    every,
    plan.last_reviewed_at && h('p', { class: 'muted small' }, `Last reviewed ${fmtDate(plan.last_reviewed_at)}`),
    h(
      'div',
      { class: 'privacy-toggle' },
      shared,
      h(
        'label',
        { for: 'plan-shared' },
        h('strong', {}, 'Share my plan with my therapist'),
        h('span', {}, plan.shared ? 'Your care team can read and suggest changes.' : 'Private: only you can see it.'),
      ),
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'primary', onclick: () => save() }, 'Save plan'),
      h('a', { class: 'button', href: '#/help' }, 'See my crisis card'),
    ),
    note,
    revisions,
  );
  const onChange = async () => {
    const fresh = await get(STORES.plan, id);
    if (fresh) {
      const newVersion = fresh.version !== plan.version;
      plan.version = fresh.version;
      swap(state, stateBadge(fresh._state));
      if (newVersion && navigator.onLine) {
        // a version reached the server: it belongs in the history
        const card = await revisionsCard(restore);
        revisions.replaceWith(card);
        revisions = card;
      }
    }
  };
  syncEvents.addEventListener('change', onChange);
  return () => {
    syncEvents.removeEventListener('change', onChange);
    if (timer) save(undefined, { quiet: true });
  };
}
