// What my care team sees, said once, here, for every screen that says it (join, More,
// check-ins, the journal editor, Help now), so no two screens tell different stories.
// Also the care team's names, kept on this device so that a risk answer given offline
// can still say who will be told.

import * as api from './api.js';
import { getMeta, setMeta } from './db.js';
import { fmtList, t, tNodes } from './i18n.js';
import { h } from './ui.js';

// in the current language: said when the screen is drawn, so a new language shows at once
export const careTeamSees = () => t('care.team_sees');
export const notEmergency = () => t('care.not_emergency');
export const notMonitored = () => t('care.not_monitored');
// for the journal editor and any other place a person could write something urgent
export const writingNotice = () => `${notMonitored()} ${t('care.writing_notice')}`;

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
  const names = links.map((l) => l.therapist?.display_name || t('care.your_therapist'));
  await setMeta(CARE_TEAM, names);
  return names;
}

// "A", "A and B", "A, B and C", each name isolated (a right-to-left name stays whole)
const nameList = (names) => fmtList(names, (name) => h('bdi', {}, name));

// The one line under the buttons on the risk screen: who was told, or will be.
//   names: the care team's names, [] for nobody linked, null if unknown
//   phase: 'sent' (the answer reached the server), 'sending', 'waiting' (this phone is
//          offline) or 'retry' (online, but the server has not taken it yet)
export function toldLine(names, phase) {
  const said = (words) => [notEmergency(), ' ', ...[words].flat()];
  if (names && !names.length) return said(t('care.told_nobody_linked'));
  if (!names) {
    if (phase === 'sent') return said(t('care.told_unknown_sent'));
    if (phase === 'sending') return said(t('care.told_unknown_sending'));
    if (phase === 'retry') return said(t('care.told_unknown_retry'));
    return said(t('care.told_unknown_waiting'));
  }
  const vars = { who: nameList(names), count: names.length };
  if (phase === 'sent') return said(tNodes('care.told_sent', vars));
  if (phase === 'sending') return said(tNodes('care.told_sending', vars));
  if (phase === 'retry') return said(tNodes('care.told_retry', vars));
  return said(tNodes('care.told_waiting', vars));
}

// Help now without a risk answer: nobody was told anything.
export const helpLine = () => `${notEmergency()} ${t('care.help_line')}`;
