// My settings: name, time zone, language and region, for patients (More → Settings) and
// therapists (their navigation). A change shows at once and is kept on this device
// (sealed with the rest when the app lock is on) until the server has it: offline it
// waits and is sent on reconnect (session.js, saveMe / flushMe).

import * as api from '../api.js';
import { getMeta, setMeta } from '../db.js';
import { hasPendingMe, saveMe, session, sessionEvents } from '../session.js';
import { fieldErrors, h, mount, pageTitle, toast } from '../ui.js';

// The languages the app speaks. Another is listed here once its catalogue exists (the
// screens' words translated); the setting itself already takes any BCP 47 tag.
const LANGUAGES = [{ tag: 'en', name: 'English' }];
const REGIONS_KEY = 'crisis_regions';
const OTHER = 'other';

const deviceZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

function zones(current) {
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return [...new Set([current, deviceZone(), ...all].filter(Boolean))].sort();
}

// the regions whose crisis lines Between knows, remembered so the choice works offline
async function knownRegions() {
  try {
    const regions = await api.get('/auth/regions');
    setMeta(REGIONS_KEY, regions).catch(() => {});
    return regions;
  } catch {
    return (await getMeta(REGIONS_KEY)) || [];
  }
}

const option = (value, label, selected) => h('option', { value, selected }, label);

export async function render(root) {
  const user = session.user || {};
  const regions = await knownRegions();
  const status = h('p', { class: 'muted', id: 'settings-status', role: 'status' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });

  const name = h('input', {
    id: 'settings-name',
    name: 'display_name',
    required: true,
    maxlength: 100,
    autocomplete: 'name',
    value: user.display_name || '',
  });
  const zone = h(
    'select',
    { id: 'settings-timezone', name: 'timezone' },
    zones(user.timezone).map((z) => option(z, z === deviceZone() ? `${z} (this device)` : z, z === user.timezone)),
  );
  // the app moves reminders to the zone of the device it opens on (push.js,
  // followTimeZone): say so when the choice is another zone, rather than surprise
  const zoneNote = h('p', { class: 'hint', id: 'settings-zone-note' });
  const noteZone = () => {
    zoneNote.textContent =
      zone.value === deviceZone()
        ? ''
        : `This device is set to ${deviceZone()}: reminders move back to it when Between opens here.`;
  };
  zone.addEventListener('change', noteZone);
  noteZone();
  const language = (user.locale || 'en').split('-')[0];
  const locale = h(
    'select',
    { id: 'settings-locale', name: 'locale' },
    LANGUAGES.map((l) => option(l.tag, l.name, l.tag === language)),
  );
  const known = regions.some((r) => r.code === user.region);
  const region = h(
    'select',
    { id: 'settings-region', name: 'region' },
    regions.map((r) => option(r.code, r.name, r.code === user.region)),
    option(OTHER, 'Other', !known),
  );
  const otherRegion = h('input', {
    id: 'settings-region-other',
    name: 'region_other',
    maxlength: 2,
    pattern: '[A-Za-z]{2}',
    autocapitalize: 'characters',
    value: known ? '' : user.region || '',
  });
  const otherField = h(
    'div',
    { hidden: known },
    h(
      'label',
      { for: 'settings-region-other' },
      'Country code',
      h('span', { class: 'hint' }, 'Two letters, like IE or JP'),
    ),
    otherRegion,
  );
  region.addEventListener('change', () => (otherField.hidden = region.value !== OTHER));

  const showPending = async () => {
    status.textContent = (await hasPendingMe())
      ? 'Saved on this device. It reaches your account when you are online.'
      : '';
  };

  const form = h(
    'form',
    { class: 'card', id: 'settings-form', novalidate: true },
    h('label', { for: 'settings-name' }, 'Name', h('span', { class: 'hint' }, 'What your care team sees')),
    name,
    h(
      'label',
      { for: 'settings-timezone' },
      'Time zone',
      h('span', { class: 'hint' }, 'Reminders come at these local times'),
    ),
    zone,
    zoneNote,
    h('label', { for: 'settings-locale' }, 'Language'),
    locale,
    h('label', { for: 'settings-region' }, 'Region', h('span', { class: 'hint' }, 'Which crisis lines Help now shows')),
    region,
    otherField,
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Save'),
    status,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const code = region.value === OTHER ? otherRegion.value.trim().toUpperCase() : region.value;
    const current = session.user || {};
    const wanted = {
      display_name: name.value.trim(),
      timezone: zone.value,
      // a regional tag the device already had (en-GB) stays, unless the language changes
      locale: (current.locale || '').split('-')[0] === locale.value ? current.locale : locale.value,
      region: code || current.region,
    };
    if (!wanted.display_name) {
      error.hidden = false;
      error.textContent = 'Enter a name.';
      return;
    }
    if (wanted.region && !/^[A-Z]{2}$/.test(wanted.region)) {
      error.hidden = false;
      error.textContent = 'A country code is two letters.';
      return;
    }
    const changes = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => v && v !== current[k]));
    if (!Object.keys(changes).length) return toast('Nothing to change');
    const refused = await saveMe(changes);
    if (refused) {
      error.hidden = false;
      error.textContent = [refused.message, ...fieldErrors(refused.errors)].join(' ');
      name.value = session.user.display_name;
    } else toast('Settings saved');
    await showPending();
  });

  mount(root, pageTitle('Settings'), form);
  await showPending();
  const onChange = () => showPending().catch(() => {});
  sessionEvents.addEventListener('change', onChange);
  return () => sessionEvents.removeEventListener('change', onChange);
}
