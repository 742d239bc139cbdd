// What my care team sees, said once, here, for every screen that says it (join, More,
// check-ins, the journal editor, Help now), so no two screens tell different stories.
// Also the care team's names, kept on this device so that a risk answer given offline
// can still say who will be told.

import * as api from './api.js';
import { getMeta, setMeta } from './db.js';
import { h } from './ui.js';

export const CARE_TEAM_SEES =
  'Your care team sees the entries you share, your check-in scores and your safety answers. A safety answer ' +
  'alerts them at once, but nobody watches in real time.';
export const NOT_EMERGENCY = 'Between is not an emergency service.';
export const NOT_MONITORED = 'Between is not monitored in real time.';
// for the journal editor and any other place a person could write something urgent
export const WRITING_NOTICE =
  `${NOT_MONITORED} Your care team sees only the entries you share. ` + 'If you are in danger, tap Help now.';

const CARE_TEAM = 'care_team';

// Names of the linked therapists: from the server when it answers (and then remembered),
// else the last names this device knew; null when it never knew.
export async function careTeamNames({ fresh = navigator.onLine } = {}) {
  if (fresh) {
    try {
      return await rememberCareTeam(await api.get('/care-team'));
    } catch {
      // offline after all, or signed out: the device copy below
    }
  }
  return getMeta(CARE_TEAM, null);
}

export async function rememberCareTeam(links) {
  const names = links.map((l) => l.therapist?.display_name || 'your therapist');
  await setMeta(CARE_TEAM, names);
  return names;
}

// "A", "A and B", "A, B and C", each name isolated (a right-to-left name stays whole)
function nameList(names) {
  const parts = new Intl.ListFormat('en', { type: 'conjunction' }).formatToParts(names);
  return parts.map((p) => (p.type === 'element' ? h('bdi', {}, p.value) : p.value));
}

// The one line under the buttons on the risk screen: who was told, or will be.
//   names: the care team's names, [] for nobody linked, null if unknown
//   phase: 'sent' (the answer reached the server), 'sending', 'waiting' (this phone is
//          offline) or 'retry' (online, but the server has not taken it yet)
export function toldLine(names, phase) {
  const one = names?.length === 1;
  if (names && !names.length) {
    return [
      NOT_EMERGENCY,
      ' You are not linked to a therapist, so nobody in Between was told about this answer. Please use the ' +
        'buttons above.',
    ];
  }
  if (!names) {
    if (phase === 'sent')
      return [
        NOT_EMERGENCY,
        ' If you have a therapist in Between, we have let them know about this answer; they are not watching ' +
          'in real time.',
      ];
    if (phase === 'sending') return [NOT_EMERGENCY, ' Sending this answer now; nobody watches in real time.'];
    if (phase === 'retry')
      return [
        NOT_EMERGENCY,
        ' Nobody has been told yet: if you have a therapist in Between, they will be told as soon as Between ' +
          'reaches its server.',
      ];
    return [
      NOT_EMERGENCY,
      ' Nobody has been told yet: if you have a therapist in Between, they will be told when your phone is ' +
        'back online.',
    ];
  }
  const who = nameList(names);
  if (phase === 'sent')
    return [NOT_EMERGENCY, ' We have let ', who, ' know about this answer; they are not watching in real time.'];
  if (phase === 'sending')
    return [NOT_EMERGENCY, ' Sending this answer to ', who, ' now; they are not watching in real time.'];
  const notYet = [NOT_EMERGENCY, ' ', who, one ? ' has' : ' have', ' not been told yet: they will be told '];
  if (phase === 'retry') return [...notYet, 'as soon as Between reaches its server.'];
  return [...notYet, 'when your phone is back online.'];
}

// Help now without a risk answer: nobody was told anything.
export const HELP_LINE =
  `${NOT_EMERGENCY} Nobody watches it in real time: ` + 'if you are in danger, use the buttons above.';
