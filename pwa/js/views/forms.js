// Pieces of the account forms: sign-in (precached) and the screens that need the network
// (account.js, security.js) share them from here, so sign-in.js, which loads account.js
// when it is needed, is not imported back by it.

import * as api from '../api.js';
import { fieldErrors, h, offlineTryAgain } from '../ui.js';

// a line for the next sign-in form ("Your password is changed…")
let notice = null;
export const flash = (text) => (notice = text);
export function takeNotice() {
  const said = notice;
  notice = null;
  return said;
}

export function errorBox() {
  return h('p', { class: 'error', role: 'alert', hidden: true });
}

// `labels` names the form's fields in the person's language (see fieldErrors)
export function showError(box, err, labels = {}) {
  box.hidden = false;
  if (err instanceof api.NetworkError) box.textContent = offlineTryAgain();
  else box.textContent = [err.message, ...fieldErrors(err.errors, labels)].join(' ');
}

export function field(id, label, attrs = {}, hint = null) {
  return [
    h('label', { for: id }, label, hint && h('span', { class: 'hint' }, hint)),
    h('input', { id, name: id, required: true, ...attrs }),
  ];
}
