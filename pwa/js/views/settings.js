// My settings: name, time zone, language and region, for patients (More → Settings) and
// therapists (their navigation). A change shows at once and is kept on this device
// (sealed with the rest when the app lock is on) until the server has it: offline it
// waits and is sent on reconnect (session.js, saveMe / flushMe).

import * as api from '../api.js';
import { getMeta, setMeta } from '../db.js';
import { LANGUAGES, regionName, t } from '../i18n.js';
import { hasPendingMe, saveMe, session, sessionEvents } from '../session.js';
import { fieldErrors, h, mount, pageTitle, toast } from '../ui.js';

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
// the server's words about a field name it as this form does
const labels = () => ({
  display_name: t('settings.name'),
  timezone: t('settings.timezone'),
  locale: t('settings.language'),
  region: t('settings.region'),
});

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
    zones(user.timezone).map((z) =>
      option(z, z === deviceZone() ? t('settings.this_device', { zone: z }) : z, z === user.timezone),
    ),
  );
  // the app moves reminders to the zone of the device it opens on (push.js,
  // followTimeZone): say so when the choice is another zone, rather than surprise
  const zoneNote = h('p', { class: 'hint', id: 'settings-zone-note' });
  const noteZone = () => {
    zoneNote.textContent = zone.value === deviceZone() ? '' : t('settings.zone_note', { zone: deviceZone() });
  };
  zone.addEventListener('change', noteZone);
  noteZone();
  const language = (user.locale || 'en').split('-')[0];
  const locale = h(
    'select',
    { id: 'settings-locale', name: 'locale' },
    Object.entries(LANGUAGES).map(([tag, name]) => option(tag, name, tag === language)),
  );
  const known = regions.some((r) => r.code === user.region);
  const region = h(
    'select',
    { id: 'settings-region', name: 'region' },
    regions.map((r) => option(r.code, regionName(r.code), r.code === user.region)),
    option(OTHER, t('settings.other_region'), !known),
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
      t('settings.country_code'),
      h('span', { class: 'hint' }, t('settings.country_hint')),
    ),
    otherRegion,
  );
  region.addEventListener('change', () => (otherField.hidden = region.value !== OTHER));

  const showPending = async () => {
    status.textContent = (await hasPendingMe()) ? t('settings.pending') : '';
  };

  const form = h(
    'form',
    { class: 'card', id: 'settings-form', novalidate: true },
    h('label', { for: 'settings-name' }, t('settings.name'), h('span', { class: 'hint' }, t('settings.name_hint'))),
    name,
    h(
      'label',
      { for: 'settings-timezone' },
      t('settings.timezone'),
      h('span', { class: 'hint' }, t('settings.timezone_hint')),
    ),
    zone,
    zoneNote,
    h('label', { for: 'settings-locale' }, t('settings.language')),
    locale,
    h(
      'label',
      { for: 'settings-region' },
      t('settings.region'),
      h('span', { class: 'hint' }, t('settings.region_hint')),
    ),
    region,
    otherField,
    error,
    h('button', { type: 'submit', class: 'primary' }, t('settings.save')),
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
      error.textContent = t('settings.enter_name');
      return;
    }
    if (wanted.region && !/^[A-Z]{2}$/.test(wanted.region)) {
      error.hidden = false;
      error.textContent = t('settings.two_letters');
      return;
    }
    const changes = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => v && v !== current[k]));
    if (!Object.keys(changes).length) return toast(t('settings.nothing'));
    const refused = await saveMe(changes);
    if (refused) {
      error.hidden = false;
      error.textContent = [refused.message, ...fieldErrors(refused.errors, labels())].join(' ');
      name.value = session.user.display_name;
    } else toast(t('settings.saved'));
    await showPending();
  });

  mount(root, pageTitle(t('settings.title')), form);
  await showPending();
  const onChange = () => showPending().catch(() => {});
  sessionEvents.addEventListener('change', onChange);
  return () => sessionEvents.removeEventListener('change', onChange);
}
