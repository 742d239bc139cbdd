// Caseload: every linked patient, open flags first, each row saying why it needs
// attention; search, sort, invite a patient (a code, a link that carries it, a QR code).

import { fmtDate, fmtDateTime, h, mount, pageTitle, swap, toast } from '../ui.js';
import { t } from '../i18n.js';
import { homeworkCounts } from './assignments.js';
import { bdi, change, errorLine, fmtShortWhen, get, names, post, reasonShort } from './common.js';

// the columns' names: the table's head, and each cell's label where a phone stacks a row
const heads = () => [
  'Patient',
  'Needs attention',
  'Last activity',
  'Next session',
  'Unread shared',
  'PHQ-9',
  'Plan review',
  t('th_assign.homework'),
];

const SORTS = {
  flags: 'Open flags first',
  name: 'Name',
  last_activity: 'Last activity',
  next_session: 'Next session',
  phq9: 'Latest PHQ-9 (highest first)',
};

function phq9Cell(row) {
  if (row.latest_phq9 == null) return h('td', { class: 'muted' }, '—');
  const moved = change(row.phq9_change);
  return h(
    'td',
    { class: 'num' },
    h('span', { class: 'score' }, String(row.latest_phq9)),
    moved &&
      h(
        'span',
        { class: `delta ${moved.tone}`, title: `${moved.words} since the answer before` },
        ` ${moved.arrow}`,
        h('span', { class: 'visually-hidden' }, ` ${moved.words}`),
      ),
  );
}

// Why a row wants attention: the open flag's reason and when the patient answered,
// and "Not on track" with its reasons, which stays after the flag is acknowledged.
function attentionCell(r) {
  const open = r.open_flags || 0;
  const flag = r.open_flag;
  const track = r.not_on_track;
  if (!open && !track) return h('td', {}, h('span', { class: 'muted' }, 'None'));
  return h(
    'td',
    { class: 'attention' },
    open > 0 &&
      h(
        'p',
        { class: 'why' },
        h(
          'a',
          {
            class: 'badge alert',
            href: flag ? `#/flags/${flag.id}` : `#/patient/${r.patient_id}`,
            'aria-label': `${open} open flag${open === 1 ? '' : 's'}: ${r.display_name}`,
          },
          `${open} open`,
        ),
        ' ',
        flag
          ? h(
              'span',
              { class: 'reason' },
              reasonShort(flag),
              flag.answered_at && ` · answered ${fmtShortWhen(flag.answered_at)}`,
            )
          : h('span', { class: 'reason' }, 'A check-in answer needs your review'),
      ),
    track &&
      h(
        'p',
        { class: 'why' },
        h('span', { class: 'badge warn' }, 'Not on track'),
        ' ',
        h('span', { class: 'reason' }, (track.reasons || []).join('; ')),
      ),
  );
}

// "1 late · 2 open": each count that is not 0, late first; short enough for a phone
function homeworkCell(r) {
  const counts = homeworkCounts(r.homework);
  if (!counts.length) return h('td', { class: 'homework' }, h('span', { class: 'muted' }, '—'));
  return h(
    'td',
    { class: 'homework' },
    counts.map(({ key, words }, n) => [
      n > 0 && h('span', { class: 'sep' }, ' · '),
      h('span', { class: `hw-count hw-${key}`, 'data-count': key }, words),
    ]),
  );
}

function rowOf(r, labels) {
  const classes = [r.open_flags ? 'flagged' : '', r.not_on_track ? 'off-track' : ''].filter(Boolean).join(' ');
  const tr = h(
    'tr',
    { class: classes, 'data-patient-id': r.patient_id },
    h('th', { scope: 'row' }, h('a', { href: `#/patient/${r.patient_id}` }, bdi(r.display_name))),
    attentionCell(r),
    h('td', {}, r.last_activity_at ? fmtDate(r.last_activity_at) : h('span', { class: 'muted' }, 'None yet')),
    h(
      'td',
      {},
      r.next_session_at
        ? fmtDateTime(r.next_session_at)
        : h(
            'a',
            { href: `#/patient/${r.patient_id}/sessions` },
            'Schedule',
            h('span', { class: 'visually-hidden' }, ' a session for ', bdi(r.display_name)),
          ),
    ),
    h(
      'td',
      { class: 'num' },
      r.unread_shared_entries ? h('strong', {}, String(r.unread_shared_entries)) : h('span', { class: 'muted' }, '0'),
    ),
    phq9Cell(r),
    h(
      'td',
      {},
      r.plan_review_due ? h('span', { class: 'badge warn' }, 'Review due') : h('span', { class: 'muted' }, '—'),
    ),
    homeworkCell(r),
  );
  [...tr.cells].forEach((cell, n) => n > 0 && cell.setAttribute('data-label', labels[n]));
  return tr;
}

function inviteCard() {
  const result = h('div', { id: 'invite-result', role: 'status', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'primary' }, 'Invite a patient');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const invite = await post('/invites');
      // the link carries the code, so the patient need not type it
      const link = invite.url || `${location.origin}/#/signin/create?code=${encodeURIComponent(invite.code)}`;
      const message =
        `Join me on Between: create your account at ${link} (your code ${invite.code} is ` +
        `filled in for you). The code works once, until ${fmtDate(invite.expires_at)}.`;
      swap(
        result,
        h(
          'div',
          { class: 'invite' },
          invite.qr_svg_data_uri &&
            h('img', {
              class: 'qr',
              id: 'invite-qr',
              src: invite.qr_svg_data_uri,
              width: 160,
              height: 160,
              alt: `QR code that opens the invitation link with the code ${invite.code}`,
            }),
          h(
            'div',
            {},
            h(
              'p',
              {},
              'Code: ',
              h('strong', { class: 'code', id: 'invite-code' }, invite.code),
              ` · valid until ${fmtDateTime(invite.expires_at)}, once`,
            ),
            h('p', { class: 'wrap' }, 'Link to share: ', h('a', { href: link, id: 'invite-link' }, link)),
            invite.qr_svg_data_uri &&
              h(
                'p',
                { class: 'muted small' },
                'The patient can scan the code with their phone camera: it opens the link.',
              ),
            h(
              'div',
              { class: 'actions' },
              h(
                'button',
                {
                  type: 'button',
                  onclick: async () => {
                    try {
                      await navigator.clipboard.writeText(message);
                      toast('Invitation copied');
                    } catch {
                      toast('Copy did not work here: select the code instead');
                    }
                  },
                },
                'Copy invitation',
              ),
              h(
                'a',
                {
                  class: 'button',
                  href:
                    `mailto:?subject=${encodeURIComponent('Your invitation to Between')}` +
                    `&body=${encodeURIComponent(message)}`,
                },
                'Email invitation',
              ),
            ),
          ),
        ),
      );
    } catch (err) {
      swap(result, errorLine(err));
    } finally {
      button.disabled = false;
    }
  });
  return h(
    'section',
    { class: 'card no-print', 'aria-labelledby': 'invite-title' },
    h('h2', { id: 'invite-title' }, 'Invite a patient'),
    h(
      'p',
      { class: 'muted' },
      'A single-use code links a patient to you. They see only that you can read what they choose to share.',
    ),
    button,
    result,
  );
}

export async function render(root) {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const sort = SORTS[params.get('sort')] ? params.get('sort') : 'flags';
  const search = h('input', { type: 'search', id: 'caseload-search', autocomplete: 'off', placeholder: 'Name' });
  const sorter = h(
    'select',
    { id: 'caseload-sort' },
    Object.entries(SORTS).map(([v, l]) => h('option', { value: v, selected: v === sort }, l)),
  );
  const body = h('tbody', {});
  const count = h('p', { class: 'muted small', id: 'caseload-count', role: 'status' });
  const table = h(
    'table',
    { class: 'caseload stack-narrow', id: 'caseload' },
    h('caption', { class: 'visually-hidden' }, 'My patients'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        heads().map((text) => h('th', { scope: 'col' }, text)),
      ),
    ),
    body,
  );
  mount(
    root,
    h(
      'div',
      { class: 'page-head' },
      pageTitle('Caseload'),
      h('a', { class: 'button no-print', href: '#/print' }, 'Print all briefs'),
    ),
    h(
      'div',
      { class: 'toolbar no-print' },
      h('div', {}, h('label', { for: 'caseload-search' }, 'Search patients'), search),
      h('div', {}, h('label', { for: 'caseload-sort' }, 'Sort by'), sorter),
    ),
    count,
    h('div', { class: 'table-wrap' }, table),
    inviteCard(),
  );
  let rows = [];
  const show = () => {
    const words = search.value.trim().toLowerCase();
    const visible = rows.filter((r) => !words || r.display_name.toLowerCase().includes(words));
    const labels = heads();
    swap(
      body,
      visible.length
        ? visible.map((r) => rowOf(r, labels))
        : h(
            'tr',
            {},
            h(
              'td',
              { colspan: labels.length, class: 'muted' },
              rows.length ? 'No patient matches.' : 'No patients yet. Invite one below.',
            ),
          ),
    );
    count.textContent = words ? `${visible.length} of ${rows.length} patients` : `${rows.length} patients`;
  };
  // sorting reloads in place (the server sorts), keeping focus on the control
  const load = async () => {
    try {
      rows = await get(`/caseload?sort=${encodeURIComponent(sorter.value)}`);
      for (const r of rows) names.set(r.patient_id, r.display_name);
      show();
    } catch (err) {
      swap(body, h('tr', {}, h('td', { colspan: heads().length }, errorLine(err))));
    }
  };
  search.addEventListener('input', show);
  sorter.addEventListener('change', () => {
    history.replaceState(null, '', `#/caseload?sort=${sorter.value}`);
    load();
  });
  await load();
  return null;
}
