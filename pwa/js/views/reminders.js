// Reminders: times (a fixed one, or a random one within a window, for the daily
// check-in), questionnaires, dosing prompts, quiet hours, whose time zone; notifications;
// and the measurement plans the therapist set, each with its pause switch (on this
// device, so that part works offline too).

import * as api from '../api.js';
import { t } from '../i18n.js';
import {
  BLOCKED_WORDS,
  disableNotifications,
  enableNotifications,
  notificationState,
  pushErrorWords,
  sendTest,
} from '../push.js';
import { fieldErrors, fmtDateTime, h, mount, pageTitle, swap, toast } from '../ui.js';
import { plansCard } from './assignments.js';

const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const POST_DOSING_DAYS = [1, 2, 3, 5, 7, 14];

const check = (id, label, checked) => {
  const input = h('input', { type: 'checkbox', id, checked });
  return { input, el: h('label', { class: 'check', for: id }, input, label) };
};
const time = (id, label, value) => {
  const input = h('input', { type: 'time', id, value });
  return { input, el: [h('label', { for: id }, label), input] };
};

async function notificationsCard() {
  const card = h('section', { class: 'card', 'aria-labelledby': 'notif-title', id: 'notifications' });
  let failure = null; // the last failure, in plain words, kept until the next try
  const run = async (fn, words) => {
    failure = null;
    try {
      toast(await fn());
    } catch (err) {
      failure = pushErrorWords(err, words);
      toast(failure);
    }
    draw();
  };
  const enable = () =>
    run(
      async () => ((await enableNotifications()) === 'granted' ? 'Notifications on' : 'Notifications were not allowed'),
      'Could not turn on notifications',
    );
  const test = () =>
    run(
      async () =>
        (await sendTest()).sent
          ? 'Test sent: it should arrive in a moment.'
          : 'The test could not be delivered. Turn notifications off and on again.',
      'Could not send a test',
    );
  const off = () =>
    run(async () => (await disableNotifications(), 'Notifications off'), 'Could not turn notifications off');
  async function draw() {
    const state = await notificationState();
    let words = 'Notifications are off for this device.';
    let buttons = [h('button', { type: 'button', class: 'primary', onclick: enable }, 'Turn on notifications')];
    if (!state.supported) {
      words = 'This browser cannot show notifications from Between. Reminders still show on the Today screen.';
      buttons = [];
    } else if (state.permission === 'denied') {
      words = BLOCKED_WORDS;
      buttons = [];
    } else if (state.subscribed && state.known !== false) {
      words = state.known
        ? 'Notifications are on for this device.'
        : 'Notifications are on for this device (not checked with the server: offline).';
      buttons = [
        h('button', { type: 'button', class: 'primary', onclick: test }, 'Send a test'),
        h('button', { type: 'button', onclick: off }, 'Turn off'),
      ];
    }
    swap(
      card,
      h('h2', { id: 'notif-title' }, 'Notifications'),
      h('p', { id: 'notif-status', role: 'status' }, words),
      failure && failure !== words && h('p', { class: 'error', id: 'notif-error' }, failure),
      h('div', { class: 'actions' }, buttons),
      h(
        'p',
        { class: 'muted small' },
        'Notifications say only “Time for your check-in” or similar, never what you wrote.',
      ),
    );
  }
  await draw();
  return card;
}

export async function render(root) {
  let shown = false;
  const load = async () => {
    shown = await draw(root);
  };
  await load();
  // offline (or a failed load) gives way to the form when the network returns; a
  // loaded form is left alone, so nothing typed is lost
  const onOnline = () => (shown ? null : load());
  window.addEventListener('online', onOnline);
  return () => window.removeEventListener('online', onOnline);
}

const deviceZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

// The whole screen; true once the form is shown.
async function draw(root) {
  swap(root, pageTitle('Reminders'));
  // the therapist's plans live on this device: shown, and paused, offline too
  mount(root, await plansCard());
  if (!navigator.onLine) {
    mount(root, h('p', { class: 'banner' }, 'Reminders are kept on the server: connect to change them.'));
    return false;
  }
  let s;
  try {
    s = await api.get('/reminders');
  } catch (err) {
    const words =
      err instanceof api.NetworkError
        ? 'Could not reach the server. Connect to change your reminders.'
        : `Could not load your reminders: ${err.message}`;
    mount(root, h('p', { class: 'banner attention' }, words));
    return false;
  }
  const randomWindow = s.daily_checkin.random;
  const daily = {
    on: check('daily-on', 'Daily check-in', s.daily_checkin.enabled),
    at: time('daily-time', 'At', s.daily_checkin.times[0]),
    // a time that changes every day, within the window: an ask that cannot be braced for
    random: check('daily-random', t('remind.random'), Boolean(randomWindow)),
    from: time('random-start', t('remind.random_from'), randomWindow?.start || '09:00'),
    to: time('random-end', t('remind.random_to'), randomWindow?.end || '20:00'),
  };
  const fixedTime = h('div', {}, daily.at.el);
  const randomTimes = h('div', { class: 'time-pair' }, h('div', {}, daily.from.el), h('div', {}, daily.to.el));
  const showRandom = () => {
    fixedTime.hidden = daily.random.input.checked;
    randomTimes.hidden = !daily.random.input.checked;
  };
  daily.random.input.addEventListener('change', showRandom);
  showRandom();
  // Reminders come at the device's local times unless the person chose a zone in Settings
  const follow = check('follow-device', t('remind.follow_device'), s.follow_device !== false);
  const zoneWords = h('p', { class: 'hint', id: 'zone-words' });
  const showZone = () => {
    zoneWords.textContent = follow.input.checked
      ? t('remind.zone_device', { zone: deviceZone() || s.timezone })
      : t('remind.zone_fixed', { zone: s.timezone });
  };
  follow.input.addEventListener('change', showZone);
  const weekly = [
    ['phq9', 'PHQ-9', 'Mood'],
    ['gad7', 'GAD-7', 'Anxiety'],
  ].map(([key, name, what]) => {
    const day = h(
      'select',
      { id: `${key}-day` },
      DAYS.map((d) => h('option', { value: d }, d[0].toUpperCase() + d.slice(1))),
    );
    day.value = s[key].day;
    return {
      key,
      what,
      day,
      on: check(`${key}-on`, `${name} every week`, s[key].enabled),
      at: time(`${key}-time`, 'At', s[key].time),
    };
  });
  const post = {
    on: check('post-on', 'Journal prompts after a dosing session', s.post_dosing.enabled),
    at: time('post-time', 'At', s.post_dosing.time),
  };
  const postDays = POST_DOSING_DAYS.map((d) => ({
    d,
    ...check(`post-day-${d}`, `Day ${d}`, s.post_dosing.days.includes(d)),
  }));
  const review = check('review-on', 'When my plan is due for review', s.plan_review.enabled);
  const quiet = {
    on: check('quiet-on', 'No notifications during quiet hours', Boolean(s.quiet_hours)),
    from: time('quiet-start', 'From', s.quiet_hours?.start || '22:00'),
    to: time('quiet-end', 'Until', s.quiet_hours?.end || '08:00'),
  };
  const err = h('p', { class: 'error', role: 'alert', hidden: true });
  const next = h('p', { class: 'muted', role: 'status' });
  const showNext = () => {
    next.textContent = s.next_due_at ? `Next reminder: ${fmtDateTime(s.next_due_at)}` : 'No reminder is scheduled.';
  };
  const form = h(
    'form',
    {},
    h('fieldset', {}, h('legend', {}, 'Every day'), daily.on.el, daily.random.el, fixedTime, randomTimes),
    weekly.map((w) =>
      h(
        'fieldset',
        {},
        h('legend', {}, `${w.what} questionnaire`),
        w.on.el,
        h('label', { for: `${w.key}-day` }, 'Day'),
        w.day,
        w.at.el,
      ),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'After dosing sessions'),
      post.on.el,
      h(
        'div',
        { class: 'filters' },
        postDays.map((p) => p.el),
      ),
      post.at.el,
    ),
    h('fieldset', {}, h('legend', {}, 'Plan'), review.el),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Quiet hours'),
      quiet.on.el,
      h('div', { class: 'time-pair' }, h('div', {}, quiet.from.el), h('div', {}, quiet.to.el)),
    ),
    h('fieldset', {}, h('legend', {}, t('remind.zone_legend')), follow.el, zoneWords),
    err,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save reminders')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const days = postDays.filter((p) => p.input.checked).map((p) => p.d);
    const body = {
      version: s.version,
      follow_device: follow.input.checked,
      daily_checkin: {
        enabled: daily.on.input.checked,
        times: [daily.at.input.value],
        random: daily.random.input.checked ? { start: daily.from.input.value, end: daily.to.input.value } : null,
      },
      post_dosing: {
        enabled: post.on.input.checked,
        days: days.length ? days : s.post_dosing.days,
        time: post.at.input.value,
      },
      plan_review: { enabled: review.input.checked, time: s.plan_review.time },
      quiet_hours: quiet.on.input.checked ? { start: quiet.from.input.value, end: quiet.to.input.value } : null,
    };
    for (const w of weekly) body[w.key] = { enabled: w.on.input.checked, day: w.day.value, time: w.at.input.value };
    // following the device: its zone; a zone chosen in Settings stays as it is
    if (follow.input.checked) body.timezone = deviceZone() || s.timezone;
    try {
      s = await api.put('/reminders', body);
      err.hidden = true;
      toast('Reminders saved');
      showNext();
      showZone();
    } catch (e) {
      err.hidden = false;
      if (e instanceof api.NetworkError) err.textContent = 'Connect to save your reminders.';
      else
        err.textContent =
          e.status === 409
            ? 'Your reminders changed on another device. Open this screen again.'
            : [e.message, ...fieldErrors(e.errors)].join(' ');
    }
  });
  showNext();
  showZone();
  mount(root, await notificationsCard(), next, form);
  return true;
}
