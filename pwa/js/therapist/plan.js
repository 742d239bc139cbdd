// A patient's plan: read it while they share it, and revise it together. The revision
// names the therapist, and the patient sees who changed what. Unshared is a 404.

import { ApiError } from '../api.js';
import { PLAN_SECTIONS } from '../constants.js';
import { fmtDateTime, h, mount, pageTitle, swap, toast } from '../ui.js';
import { diffList } from './brief.js';
import { bdi, errorLine, get, patientName, patientNav, problem, put } from './common.js';

const TITLES = {
  warning_signs: 'Early warning signs',
  triggers: 'Triggers',
  coping_steps: 'Coping steps on their own',
  distractions: 'People and places that distract',
  support_contacts: 'People to ask for help',
  professional_contacts: 'Professionals',
  crisis_lines: 'Crisis lines',
  safe_environment: 'Making the surroundings safe',
  reasons_for_living: 'Reasons for living',
  maintenance_criteria: 'When to ask for a maintenance session',
};
// free-text sections edit as one item per line; contacts and rules stay as they are
const EDITABLE = PLAN_SECTIONS.filter((s) => !s.contact && !s.line).map((s) => s.key);

const itemText = (i) => i.text || [i.name, i.relation, i.phone].filter(Boolean).join(', ');

function readView(plan) {
  return PLAN_SECTIONS.map(({ key }) =>
    h(
      'section',
      { class: 'card plan-section', 'aria-labelledby': `plan-${key}` },
      h('h2', { id: `plan-${key}` }, TITLES[key]),
      plan[key]?.length
        ? h(
            'ul',
            {},
            plan[key].map((i) => h('li', { class: 'user-text' }, itemText(i))),
          )
        : h('p', { class: 'muted' }, 'Nothing yet.'),
    ),
  );
}

// What a save would change, in the server's diff shape (added/removed per section).
function diffOf(before, after) {
  const sections = {};
  for (const key of Object.keys(after)) {
    const old = (before[key] || []).map(itemText);
    const now = after[key].map(itemText);
    const added = after[key].filter((i) => !old.includes(itemText(i)));
    const removed = (before[key] || []).filter((i) => !now.includes(itemText(i)));
    const reordered = !added.length && !removed.length && old.join('\n') !== now.join('\n');
    if (added.length || removed.length || reordered) sections[key] = { added, removed, reordered };
  }
  return { sections };
}

function editor(pid, plan, done) {
  const areas = {};
  const fields = EDITABLE.map((key) => {
    areas[key] = h('textarea', { id: `edit-${key}`, class: 'short' }, (plan[key] || []).map((i) => i.text).join('\n'));
    return h(
      'div',
      { class: 'field' },
      h('label', { for: `edit-${key}` }, TITLES[key], h('span', { class: 'hint' }, 'One item per line')),
      areas[key],
    );
  });
  const summary = h('input', { type: 'text', id: 'edit-summary', maxlength: 500 });
  const preview = h('div', { id: 'plan-diff', 'aria-live': 'polite' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const changes = () => {
    const out = {};
    for (const key of EDITABLE) {
      const kept = new Map((plan[key] || []).map((i) => [i.text, i]));
      const lines = areas[key].value
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const items = lines.map((text) => kept.get(text) || { text }); // a line kept keeps its part link
      if (items.map((i) => i.text).join('\n') !== (plan[key] || []).map((i) => i.text).join('\n')) out[key] = items;
    }
    return out;
  };
  const showDiff = () => swap(preview, h('h3', {}, 'Your changes'), diffList(diffOf(plan, changes()), TITLES));
  for (const area of Object.values(areas)) area.addEventListener('input', showDiff);
  const form = h(
    'form',
    { class: 'card plan-editor', 'aria-labelledby': 'edit-title' },
    h('h2', { id: 'edit-title' }, 'Revise the plan'),
    h(
      'p',
      { class: 'muted' },
      'The patient sees this revision as yours. Contacts and crisis lines stay as the patient set them.',
    ),
    fields,
    h(
      'div',
      { class: 'field' },
      h(
        'label',
        { for: 'edit-summary' },
        'What changed and why',
        h('span', { class: 'hint' }, 'Optional; shown to the patient with the revision'),
      ),
      summary,
    ),
    preview,
    error,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Save revision'),
      h('button', { type: 'button', onclick: () => done(null) }, 'Cancel'),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = changes();
    if (!Object.keys(data).length) {
      error.hidden = false;
      error.textContent = 'Nothing has changed yet.';
      return;
    }
    try {
      const saved = await put(`/patients/${pid}/plan`, {
        ...data,
        version: plan.version,
        ...(summary.value.trim() ? { summary: summary.value.trim() } : {}),
      });
      toast('Plan revised');
      done(saved);
    } catch (err) {
      error.hidden = false;
      if (err instanceof ApiError && err.status === 409) {
        done(err.body.current || null, 'The plan changed meanwhile. This is the current plan: make your change again.');
      } else error.textContent = problem(err);
    }
  });
  showDiff();
  return form;
}

export async function render(root, [pid]) {
  const title = pageTitle('Plan');
  const body = h('div', { id: 'plan-body' });
  mount(root, h('div', { class: 'page-head' }, title), body);
  const name = await patientName(pid).catch(() => 'Patient');
  swap(title, 'Plan: ', bdi(name));
  document.title = `Plan: ${name} · Between`;
  title.parentElement.after(patientNav(pid, 'plan', name));
  let plan;
  try {
    plan = await get(`/patients/${pid}/plan`);
  } catch (err) {
    if (err?.status === 404)
      swap(body, h('p', { class: 'card' }, `${name} keeps their plan private. It appears here once they share it.`));
    else swap(body, errorLine(err));
    return null;
  }
  const show = (current, note = null) => {
    plan = current;
    const edit = h('button', { type: 'button', class: 'primary' }, 'Revise the plan');
    edit.addEventListener('click', () => {
      const form = editor(pid, plan, (saved, message) =>
        show(saved || plan, message && h('p', { class: 'banner attention', role: 'alert' }, message)),
      );
      swap(body, form);
      form.querySelector('textarea').focus();
    });
    swap(
      body,
      note,
      h(
        'p',
        { class: 'meta' },
        h('span', {}, `Version ${plan.version}`),
        plan.updated_at &&
          h(
            'span',
            {},
            `Last changed ${fmtDateTime(plan.updated_at)} by ` +
              `${plan.updated_by_role === 'therapist' ? 'a therapist' : 'the patient'}`,
          ),
        plan.review_due && h('span', { class: 'badge warn' }, 'Review due'),
      ),
      h('div', { class: 'actions no-print' }, edit),
      h('div', { class: 'plan-grid' }, readView(plan)),
    );
  };
  show(plan);
  return null;
}
