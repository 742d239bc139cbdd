// More: reminders, privacy, security, my care team, and what Between is and is not.

import * as api from '../api.js';
import { careTeamNames, careTeamSees, notEmergency, rememberCareTeam } from '../care-words.js';
import { t } from '../i18n.js';
import { confirmSheet, h, mount, pageTitle, toast } from '../ui.js';
import { joinForm } from './sign-in.js';
import { render as renderAppLock } from './app-lock.js';

async function careTeam() {
  const card = h(
    'section',
    { class: 'card', 'aria-labelledby': 'team-title' },
    h('h2', { id: 'team-title' }, t('more.care_team')),
  );
  if (!navigator.onLine) {
    card.dataset.offline = 'yes';
    mount(card, h('p', { class: 'muted' }, careTeamSees()), h('p', { class: 'muted' }, t('more.connect_for_team')));
    return card;
  }
  try {
    const links = await api.get('/care-team');
    // remembered, so a safety answer given offline can still say who will be told
    rememberCareTeam(links).catch(() => {});
    mount(
      card,
      links.length
        ? h(
            'ul',
            { class: 'list' },
            links.map((l) =>
              h(
                'li',
                { class: 'check' },
                h('span', {}, l.therapist?.display_name || t('more.your_therapist')),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'link',
                    onclick: async (e) => {
                      const who = l.therapist?.display_name || t('more.your_therapist');
                      const sure = await confirmSheet(
                        t('more.leave_title'),
                        t('more.leave_text', { who }),
                        t('more.leave'),
                        { danger: true },
                      );
                      if (!sure) return;
                      await api.del(`/care-team/${l.id}`);
                      e.target.closest('li').remove();
                      toast(t('more.left'));
                      careTeamNames().catch(() => {});
                    },
                  },
                  t('more.leave'),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, t('more.no_therapist')),
    );
  } catch {
    card.dataset.offline = 'yes'; // tried again when the network returns
    mount(card, h('p', { class: 'muted' }, t('more.team_failed')));
  }
  joinForm(card, { after: null, title: null });
  return card;
}

export async function render(root, params = []) {
  if (params[0] === 'app-lock') return renderAppLock(root); // More → App lock
  let team = await careTeam();
  mount(
    root,
    pageTitle(t('more.title')),
    h(
      'ul',
      { class: 'list' },
      h(
        'li',
        {},
        h(
          'a',
          { class: 'entry-link', href: '#/settings' },
          h('span', { class: 'title' }, t('more.settings')),
          h('span', { class: 'excerpt' }, t('more.settings_about')),
        ),
      ),
      h(
        'li',
        {},
        h(
          'a',
          { class: 'entry-link', href: '#/reminders' },
          h('span', { class: 'title' }, t('more.reminders')),
          h('span', { class: 'excerpt' }, t('more.reminders_about')),
        ),
      ),
      h(
        'li',
        {},
        h(
          'a',
          { class: 'entry-link', href: '#/privacy' },
          h('span', { class: 'title' }, t('more.privacy')),
          h('span', { class: 'excerpt' }, t('more.privacy_about')),
        ),
      ),
      h(
        'li',
        {},
        h(
          'a',
          { class: 'entry-link', href: '#/security' },
          h('span', { class: 'title' }, t('more.security')),
          h('span', { class: 'excerpt' }, t('more.security_about')),
        ),
      ),
      h(
        'li',
        {},
        h(
          'a',
          { class: 'entry-link', href: '#/more/app-lock' },
          h('span', { class: 'title' }, t('more.app_lock')),
          h('span', { class: 'excerpt' }, t('more.app_lock_about')),
        ),
      ),
      h(
        'li',
        {},
        h(
          'a',
          { class: 'entry-link', href: '#/trends' },
          h('span', { class: 'title' }, t('more.trends')),
          h('span', { class: 'excerpt' }, t('more.trends_about')),
        ),
      ),
    ),
    team,
    h('p', { class: 'notice small' }, notEmergency(), ' ', t('more.not_watched')),
  );
  // the care team loads when the network returns (once: a loaded card is left alone)
  const onOnline = async () => {
    if (!team.dataset.offline) return;
    const fresh = await careTeam();
    team.replaceWith(fresh);
    team = fresh;
  };
  window.addEventListener('online', onOnline);
  return () => window.removeEventListener('online', onOnline);
}
