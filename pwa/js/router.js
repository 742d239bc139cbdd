// The router: which module draws which screen, loaded when first opened. Only app.js
// imports it; screens navigate through nav.js, which imports no screen, so no screen
// imports the module that loads it.

import { currentRoute, setRedraw } from './nav.js';
import { session } from './session.js';
import { offlineScreen } from './ui.js';

const VIEWS = {
  today: () => import('./views/today.js'),
  journal: () => import('./views/journal.js'),
  conflict: () => import('./views/conflict.js'),
  checkin: () => import('./views/checkin.js'),
  trends: () => import('./views/trends.js'),
  parts: () => import('./views/parts-map.js'),
  plan: () => import('./views/plan.js'),
  help: () => import('./views/help-now.js'),
  more: () => import('./views/more.js'),
  privacy: () => import('./views/privacy.js'),
  reminders: () => import('./views/reminders.js'),
  settings: () => import('./views/settings.js'),
  signin: () => import('./views/sign-in.js'),
  // not precached: these need the network anyway
  reset: () => import('./views/account.js'),
  security: () => import('./views/security.js'),
};
const PUBLIC = new Set(['signin', 'help', 'reset']);
const TAB_OF = {
  conflict: 'journal',
  trends: 'checkin',
  privacy: 'more',
  reminders: 'more',
  security: 'more',
  settings: 'more',
};
// a screen outside the precached shell, opened offline
const OFFLINE = { render: offlineScreen };
// the screens both roles use, handed to the therapist's shell so that therapist code
// loads no patient screen module itself
const SHARED = {
  security: VIEWS.security,
  appLock: () => import('./views/app-lock.js'),
  settings: VIEWS.settings,
};

let outlet;
let cleanup = null;
let renderId = 0;

// the open screen, an unknown name being Today
export function parse(hash = location.hash) {
  const { name, params } = currentRoute(hash);
  return { name: VIEWS[name] ? name : 'today', params };
}

export async function render() {
  const id = ++renderId;
  // the screen being left stops now (its `online` listener, its timers), not once the
  // next one has loaded and drawn: that can take a while on a busy phone
  if (cleanup) cleanup();
  cleanup = null;
  let { name, params } = parse();
  if (!session.user && !PUBLIC.has(name)) {
    name = 'signin';
    params = [];
  }
  // a therapist's screens (js/therapist/) are not in the patient's shell
  const staff = session.user?.role === 'therapist';
  const mod = await (staff ? import('./therapist/shell.js') : VIEWS[name]()).catch(() => OFFLINE);
  if (id !== renderId) return; // a newer navigation won
  const tab = TAB_OF[name] || name;
  document.getElementById('tabbar').hidden = !session.user || staff;
  for (const a of document.querySelectorAll('#tabbar a')) {
    if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const fresh = document.createElement('div');
  fresh.className = `view view-${staff ? 'therapist' : name}`;
  const result = await (staff ? mod.render(fresh, params, SHARED) : mod.render(fresh, params));
  if (id !== renderId) {
    // a newer navigation won while this screen was drawn: it never shows, so what it
    // started (an `online` listener, a timer) ends now, or it would act on the next one
    if (typeof result === 'function') result();
    return;
  }
  cleanup = typeof result === 'function' ? result : null;
  outlet.replaceChildren(fresh);
  const heading = fresh.querySelector('h1');
  if (heading && !fresh.querySelector('[autofocus]')) heading.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

export function startRouter(main) {
  outlet = main;
  setRedraw(render);
  window.addEventListener('hashchange', render);
  return render();
}
