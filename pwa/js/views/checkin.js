// Check-ins: daily, PHQ-9, GAD-7, one question at a time with large targets; the result
// in plain words. A risk answer saves what was answered, is sent at once, and goes
// straight to Help now, which says who was told.

import { careTeamNames, careTeamSees, notMonitored } from '../care-words.js';
import { MAX_SCORE, isRiskAnswer, scoreLocally } from '../checkin-scoring.js';
import { ATTENTION, LOCAL, SYNCED } from '../constants.js';
import { STORES, get, getAll } from '../db.js';
import { fmtNumber, t, tNodes } from '../i18n.js';
import { navigate } from '../nav.js';
import { saveItem } from '../outbox.js';
import { inMyLanguage, syncEvents, syncNow } from '../sync.js';
import { fmtDateTime, h, localIso, mount, pageTitle, stateBadge, stateWords, swap } from '../ui.js';
import { crisisCard, firstHelp } from './help-now.js';

const TYPE = 'checkin';
// the questionnaires in the language the app speaks now (the server words them)
const cachedInstruments = () => inMyLanguage('instruments');

function about(instrumentId) {
  if (instrumentId === 'daily') return t('checkin.about_daily');
  if (instrumentId === 'phq9') return t('checkin.about_phq9');
  if (instrumentId === 'gad7') return t('checkin.about_gad7');
  return '';
}

// Under every question: nobody is watching, and where help is. The card is the one
// Help now shows, so the numbers follow the person's region.
function inDanger(line, emergency) {
  const call = (tel) => h('a', { href: `tel:${tel}` }, tel);
  const vars = { line: line?.tel && call(line.tel), emergency: emergency && call(emergency) };
  if (line?.tel && emergency) {
    return line.sms_to ? tNodes('checkin.danger_text_or_call', vars) : tNodes('checkin.danger_call_or_call', vars);
  }
  if (line?.tel) return line.sms_to ? tNodes('checkin.danger_text', vars) : tNodes('checkin.danger_call', vars);
  if (emergency) return tNodes('checkin.danger_emergency', vars);
  return t('checkin.danger_local');
}

async function notMonitoredNotice() {
  const { line, emergency } = firstHelp(await crisisCard());
  return h(
    'p',
    { class: 'notice small', role: 'note', id: 'not-monitored' },
    notMonitored(),
    ' ',
    inDanger(line, emergency),
  );
}

// Who will be told of a safety answer, remembered while online so an answer given
// offline can still name them.
const rememberCareTeam = () => navigator.onLine && careTeamNames().catch(() => {});

async function drawChooser(root) {
  const [instruments, checkins] = await Promise.all([cachedInstruments(), getAll(STORES.checkin)]);
  const recent = checkins
    .filter((c) => !c.deleted)
    .sort((a, b) => b.answered_at.localeCompare(a.answered_at))
    .slice(0, 5);
  const names = Object.fromEntries(instruments.map((i) => [i.id, i.title]));
  swap(
    root,
    pageTitle(t('checkin.title')),
    instruments.length
      ? h(
          'ul',
          { class: 'list' },
          instruments.map((i) =>
            h(
              'li',
              { class: 'card' },
              h('h2', {}, i.title),
              h('p', { class: 'muted' }, about(i.id)),
              h('a', { class: 'button primary', href: `#/checkin/${i.id}` }, t('checkin.start', { title: i.title })),
            ),
          ),
        )
      : h('p', { class: 'banner', id: 'no-instruments' }, t('checkin.connect_once')),
    h('p', { class: 'muted small', id: 'care-team-sees' }, careTeamSees()),
    h('p', {}, h('a', { class: 'button', href: '#/trends' }, t('checkin.see_trends'))),
    recent.length > 0 &&
      h(
        'section',
        {},
        h('h2', {}, t('checkin.recent')),
        h(
          'ul',
          { class: 'list' },
          recent.map((c) =>
            h(
              'li',
              {},
              h(
                'a',
                { class: 'entry-link', href: `#/checkin/result/${c.id}` },
                h('span', { class: 'title' }, names[c.instrument] || c.instrument),
                h(
                  'span',
                  { class: 'meta' },
                  fmtDateTime(c.answered_at),
                  c.score != null && h('span', {}, t('checkin.score', { score: fmtNumber(c.score) })),
                  stateBadge(c._state),
                ),
              ),
            ),
          ),
        ),
      ),
  );
}

async function chooser(root) {
  rememberCareTeam();
  await drawChooser(root);
  // the questionnaires arrive with a sync (a first one, or in a language just chosen)
  const redraw = () => drawChooser(root).catch(() => {});
  syncEvents.addEventListener('change', redraw);
  if (!(await cachedInstruments()).length && navigator.onLine) syncNow();
  return () => syncEvents.removeEventListener('change', redraw);
}

function optionButton(label, pressed, onPick, extra = {}) {
  return h(
    'button',
    { type: 'button', class: 'option', 'aria-pressed': String(pressed), onclick: onPick, ...extra },
    label,
  );
}

async function form(root, instrumentId) {
  const instruments = await cachedInstruments();
  const instrument = instruments.find((i) => i.id === instrumentId);
  if (!instrument) {
    mount(root, pageTitle(t('checkin.title')), h('p', { class: 'banner' }, t('checkin.not_on_device')));
    return;
  }
  rememberCareTeam();
  const answers = {};
  let notePrivate = false;
  let index = 0;
  const items = instrument.items;
  const stage = h('div', { class: 'stage' });

  const finish = async (risk) => {
    const local = scoreLocally(instrument, answers);
    const record = {
      id: crypto.randomUUID(),
      instrument: instrument.id,
      answers: { ...answers },
      answered_at: localIso(),
      note_private: notePrivate,
      session_id: null,
      score: local.score,
      severity: local.severity,
      complete: local.complete,
      version: null,
    };
    await saveItem(TYPE, record, {
      instrument: record.instrument,
      answers: record.answers,
      answered_at: record.answered_at,
      note_private: notePrivate,
    });
    if (risk) {
      syncNow(); // the care team is alerted when the server has it: no waiting
      navigate(`help/risk/${record.id}`);
    } else navigate(`checkin/result/${record.id}`);
  };

  const answer = (item, value) => {
    answers[item.id] = value;
    if (isRiskAnswer(item, value)) return finish(true);
    return next(); // straight on: no second tap needed, Back is always there
  };
  const next = () => {
    if (index >= items.length - 1) return finish(false);
    index += 1;
    return draw();
  };
  const back = () => {
    index = Math.max(0, index - 1);
    draw();
  };

  function control(item) {
    const value = answers[item.id];
    if (item.type === 'choice') {
      return h(
        'ul',
        { class: 'options' },
        item.options.map((o) =>
          h(
            'li',
            {},
            optionButton(o.label, value === o.value, () => answer(item, o.value)),
          ),
        ),
      );
    }
    if (item.type === 'yes_no') {
      return h(
        'ul',
        { class: 'options' },
        [
          [t('checkin.yes'), true],
          [t('checkin.no'), false],
        ].map(([label, v]) =>
          h(
            'li',
            {},
            optionButton(label, value === v, () => answer(item, v)),
          ),
        ),
      );
    }
    if (item.type === 'scale') {
      return h(
        'div',
        {},
        h(
          'ul',
          { class: 'options scale' },
          [...Array(item.max - item.min + 1)].map((_, n) => {
            const v = item.min + n;
            const named = item.labels?.[String(v)];
            return h(
              'li',
              {},
              optionButton(String(v), value === v, () => answer(item, v), {
                'aria-label': named ? `${v}, ${named}` : `${v}`,
              }),
            );
          }),
        ),
        h(
          'p',
          { class: 'scale-labels', 'aria-hidden': 'true' },
          h('span', {}, `${item.min}: ${item.labels?.[String(item.min)] || ''}`),
          h('span', {}, `${item.max}: ${item.labels?.[String(item.max)] || ''}`),
        ),
      );
    }
    const id = `answer-${item.id}`;
    if (item.type === 'number') {
      const input = h('input', {
        type: 'number',
        id,
        min: item.min,
        max: item.max,
        step: '0.5',
        inputmode: 'decimal',
        value: value ?? '',
      });
      input.addEventListener('input', () => {
        answers[item.id] = input.value === '' ? undefined : Number(input.value);
      });
      return h('div', {}, h('label', { for: id }, t('checkin.hours')), input);
    }
    const area = h('textarea', { id, maxlength: item.max_length || 2000, value: value ?? '' });
    area.addEventListener('input', () => {
      answers[item.id] = area.value || undefined;
    });
    const priv = h('input', { type: 'checkbox', id: 'note-private', checked: notePrivate });
    priv.addEventListener('change', () => {
      notePrivate = priv.checked;
    });
    return h(
      'div',
      {},
      h('label', { for: id }, t('checkin.your_note')),
      area,
      h('label', { class: 'check', for: 'note-private' }, priv, t('checkin.note_private')),
    );
  }

  function draw() {
    const item = items[index];
    const answered = answers[item.id] != null;
    const typed = item.type === 'number' || item.type === 'text';
    const qid = `q-${item.id}`;
    swap(
      stage,
      h('p', { class: 'muted small' }, t('checkin.question_n', { n: index + 1, count: items.length })),
      h('progress', { max: items.length, value: index + 1, 'aria-label': t('checkin.progress') }),
      instrument.time_frame && index === 0 && h('p', { class: 'muted' }, instrument.time_frame),
      h(
        'div',
        { role: 'group', 'aria-labelledby': qid },
        h('p', { class: 'question', id: qid }, item.text),
        control(item),
      ),
      h(
        'div',
        { class: 'actions' },
        index > 0 && h('button', { type: 'button', onclick: back }, t('checkin.back')),
        (typed || answered || !item.required) &&
          h(
            'button',
            { type: 'button', class: 'primary', onclick: next },
            index === items.length - 1
              ? t('checkin.finish')
              : answered || typed
                ? t('checkin.next')
                : t('checkin.skip'),
          ),
      ),
    );
    const focusable = stage.querySelector('.option[aria-pressed="true"], .option, input, textarea');
    focusable?.focus({ preventScroll: true });
  }

  mount(root, pageTitle(instrument.title), stage, await notMonitoredNotice());
  draw();
}

// the published band in words: "Mild depression symptoms."
function severityWords(instrumentId, severity) {
  if (instrumentId === 'phq9') {
    if (severity === 'minimal') return t('checkin.phq9_minimal');
    if (severity === 'mild') return t('checkin.phq9_mild');
    if (severity === 'moderate') return t('checkin.phq9_moderate');
    if (severity === 'moderately severe') return t('checkin.phq9_moderately_severe');
    if (severity === 'severe') return t('checkin.phq9_severe');
  }
  if (instrumentId === 'gad7') {
    if (severity === 'minimal') return t('checkin.gad7_minimal');
    if (severity === 'mild') return t('checkin.gad7_mild');
    if (severity === 'moderate') return t('checkin.gad7_moderate');
    if (severity === 'severe') return t('checkin.gad7_severe');
  }
  return null;
}

async function result(root, id) {
  const draw = async () => {
    const [c, instruments] = await Promise.all([get(STORES.checkin, id), cachedInstruments()]);
    const instrument = instruments.find((i) => i.id === c?.instrument);
    if (!c) {
      swap(root, pageTitle(t('checkin.result_title')), h('p', {}, t('checkin.result_not_on_device')));
      return;
    }
    const title = instrument?.title || c.instrument;
    const words = severityWords(c.instrument, c.severity);
    const a = c.answers || {};
    // "Saved" once the server has it; until then it is safe here, and says so
    const saved =
      c._state === ATTENTION
        ? stateBadge(c._state)
        : h(
            'span',
            { id: 'saved', class: `state state-${c._state || LOCAL}` },
            c._state === SYNCED ? t('checkin.saved') : stateWords(LOCAL),
          );
    swap(
      root,
      pageTitle(t('checkin.done', { title })),
      h('p', { class: 'saved-line', role: 'status' }, saved),
      c.score != null
        ? h(
            'section',
            { class: 'card', 'aria-labelledby': 'score' },
            h(
              'p',
              { class: 'result-score', id: 'score' },
              t('checkin.score_of', { score: fmtNumber(c.score), max: fmtNumber(MAX_SCORE[c.instrument]) }),
            ),
            h('p', { id: 'severity' }, words),
            h('p', { class: 'muted small' }, t('checkin.snapshot')),
          )
        : c.instrument === 'daily'
          ? h(
              'section',
              { class: 'card' },
              h(
                'ul',
                {},
                [
                  [t('checkin.daily_mood'), a.mood],
                  [t('checkin.daily_anxiety'), a.anxiety],
                  [t('checkin.daily_sleep_quality'), a.sleep_quality],
                  [t('checkin.daily_sleep_hours'), a.sleep_hours],
                  [t('checkin.daily_rumination'), a.rumination],
                ]
                  .filter(([, v]) => v != null)
                  .map(([k, v]) => h('li', {}, `${k}: ${fmtNumber(v)}`)),
              ),
            )
          : h('p', { class: 'card' }, t('checkin.no_total')),
      h('p', { class: 'muted' }, t('checkin.thanks')),
      h(
        'div',
        { class: 'actions' },
        h('a', { class: 'button primary', href: `#/trends/${c.instrument}` }, t('checkin.see_trend')),
        h('a', { class: 'button', href: '#/today' }, t('checkin.back_today')),
      ),
    );
  };
  await draw();
  syncEvents.addEventListener('change', draw);
  return () => syncEvents.removeEventListener('change', draw);
}

export function render(root, [what, id]) {
  if (what === 'result') return result(root, id);
  if (what) return form(root, what);
  return chooser(root);
}
