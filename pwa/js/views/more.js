// More: reminders, privacy, security, my care team, and what Between is and is not.

import * as api from '../api.js';
import { CARE_TEAM_SEES, NOT_EMERGENCY, careTeamNames, rememberCareTeam } from '../care-words.js';
import { confirmSheet, h, mount, pageTitle, toast } from '../ui.js';
import { joinForm } from './sign-in.js';
import { render as renderAppLock } from './app-lock.js';

async function careTeam() {
  const card = h(
    'section',
    { class: 'card', 'aria-labelledby': 'team-title' },
    h('h2', { id: 'team-title' }, 'My care team'),
  );
  if (!navigator.onLine) {
    card.dataset.offline = 'yes';
    mount(
      card,
      h('p', { class: 'muted' }, CARE_TEAM_SEES),
      h('p', { class: 'muted' }, 'Connect to see your care team.'),
    );
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
                h('span', {}, l.therapist?.display_name || 'Your therapist'),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'link',
                    onclick: async (e) => {
                      if (
                        !(await confirmSheet(
                          'Leave this care team?',
                          `${l.therapist?.display_name || 'Your therapist'} will no longer see anything you ` +
                            `shared, from now on.`,
                          'Leave',
                          { danger: true },
                        ))
                      )
                        return;
                      await api.del(`/care-team/${l.id}`);
                      e.target.closest('li').remove();
                      toast('You left the care team');
                      careTeamNames().catch(() => {});
                    },
                  },
                  'Leave',
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'You are not linked to a therapist in Between.'),
    );
  } catch {
    card.dataset.offline = 'yes'; // tried again when the network returns
    mount(card, h('p', { class: 'muted' }, 'Could not load your care team just now.'));
  }
  joinForm(card, { after: null, title: null });
  return card;
}

export async function render(root, params = []) {
  if (params[0] === 'app-lock') return renderAppLock(root); // More → App lock
  let team = await careTeam();
  mount(
    root,
    pageTitle('More'),
    h(
      'ul',
      { class: 'list' },
      h(
        'li',
        {},
        h(
          'a',
          { class: 'entry-link', href: '#/settings' },
          h('span', { class: 'title' }, 'Settings'),
          h('span', { class: 'excerpt' }, 'My name, time zone, language and region'),
        ),
      ),
      h(
        'li',
        {},
        h(
          'a',
          { class: 'entry-link', href: '#/reminders' },
          h('span', { class: 'title' }, 'Reminders and notifications'),
          h('span', { class: 'excerpt' }, 'Check-in times, weekly questionnaires, quiet hours'),
        ),
      ),
      h(
        'li',
        {},
        h(
          'a',
          { class: 'entry-link', href: '#/privacy' },
          h('span', { class: 'title' }, 'Privacy and my data'),
          h('span', { class: 'excerpt' }, 'Export, who has seen my entries, devices, sign out'),
        ),
      ),
      h(
        'li',
        {},
        h(
          'a',
          { class: 'entry-link', href: '#/security' },
          h('span', { class: 'title' }, 'Security'),
          h('span', { class: 'excerpt' }, 'Two-factor sign-in, recovery codes'),
        ),
      ),
      h(
        'li',
        {},
        h(
          'a',
          { class: 'entry-link', href: '#/more/app-lock' },
          h('span', { class: 'title' }, 'App lock'),
          h('span', { class: 'excerpt' }, 'A PIN, and this phone’s copy encrypted'),
        ),
      ),
      h(
        'li',
        {},
        h(
          'a',
          { class: 'entry-link', href: '#/trends' },
          h('span', { class: 'title' }, 'Trends'),
          h('span', { class: 'excerpt' }, 'My check-in scores over time'),
        ),
      ),
    ),
    team,
    h(
      'p',
      { class: 'notice small' },
      `${NOT_EMERGENCY} Nobody watches it in real time: if you are in danger, tap Help now, at the top of ` +
        `every screen.`,
    ),
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
