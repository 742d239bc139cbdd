// Navigation: which screen is open and how to open another. Hash routes
// (#/journal/<id>): the shell is one cached page, so every screen opens offline.
// This module imports no screen, so every screen (patient or therapist) may import it;
// the router loads and draws the screens and tells it how to draw the open one again.

let redraw = () => {};
export function setRedraw(fn) {
  redraw = fn;
}

// 'journal/new', '/journal/new' and '#/journal/new' all name the same screen
export const routeHref = (path) => `#/${path.replace(/^#?\/?/, '')}`;

// The screen's name and its parameters, as written (the router and the therapist's shell
// each fall back to their own first screen). A query (#/signin/create?code=…) is left
// for the screen to read from location.hash.
export function currentRoute(hash = location.hash) {
  const [name, ...params] = hash.replace(/^#\/?/, '').split('?')[0].split('/').filter(Boolean).map(decodeURIComponent);
  return { name, params };
}

export function navigate(path) {
  const target = routeHref(path);
  if (location.hash === target)
    redraw(); // no hashchange: draw the same screen afresh
  else location.hash = target;
}
