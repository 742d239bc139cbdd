// Check-ins: daily, PHQ-9, GAD-7, one question at a time with large targets; the result
// in plain words. A risk answer saves what was answered, is sent at once, and goes
// straight to Help now, which says who was told.

import { CARE_TEAM_SEES, NOT_MONITORED, careTeamNames } from '../care-words.js';
import { MAX_SCORE, isRiskAnswer, scoreLocally, severityWords } from '../checkin-scoring.js';
import { ATTENTION, LOCAL, STATE_WORDS, SYNCED } from '../constants.js';
import { STORES, get, getAll, getMeta } from '../db.js';
import { navigate } from '../nav.js';
import { saveItem } from '../outbox.js';
import { syncEvents, syncNow } from '../sync.js';
import { fmtDateTime, h, localIso, mount, pageTitle, stateBadge, swap } from '../ui.js';
import { crisisCard, firstHelp } from './help-now.js';

const TYPE = 'checkin';
const ABOUT = {
  daily: 'Mood, anxiety, sleep and one safety question. About a minute.',
  phq9: 'Nine questions about mood over the last two weeks.',
  gad7: 'Seven questions about anxiety over the last two weeks.',
};

// Under every question: nobody is watching, and where help is. The card is the one
// Help now shows, so the numbers follow the person's region.
async function notMonitored() {
  const { line, emergency } = firstHelp(await crisisCard());
  const call = (tel) => h('a', { href: `tel:${tel}` }, tel);
  return h(
    'p',
    { class: 'notice small', role: 'note', id: 'not-monitored' },
    `${NOT_MONITORED} If you are in danger, `,
    line?.tel && ['call', line.sms_to ? ' or text ' : ' ', call(line.tel), emergency ? ', or ' : ''],
    emergency ? ['call ', call(emergency)] : !line?.tel && 'call your local emergency number',
    ', or tap Help now.',
  );
}

// Who will be told of a safety answer, remembered while online so an answer given
// offline can still name them.
const rememberCareTeam = () => navigator.onLine && careTeamNames().catch(() => {});

async function chooser(root) {
  rememberCareTeam();
  const [instruments, checkins] = await Promise.all([getMeta('instruments', []), getAll(STORES.checkin)]);
  const recent = checkins
    .filter((c) => !c.deleted)
    .sort((a, b) => b.answered_at.localeCompare(a.answered_at))
    .slice(0, 5);
  const names = Object.fromEntries(instruments.map((i) => [i.id, i.title]));
  mount(
    root,
    pageTitle('Check in'),
    instruments.length
      ? h(
          'ul',
          { class: 'list' },
          instruments.map((i) =>
            h(
              'li',
              { class: 'card' },
              h('h2', {}, i.title),
              h('p', { class: 'muted' }, ABOUT[i.id] || ''),
              h('a', { class: 'button primary', href: `#/checkin/${i.id}` }, `Start ${i.title}`),
            ),
          ),
        )
      : h('p', { class: 'banner' }, 'Connect to the internet once to load the questionnaires onto this device.'),
    h('p', { class: 'muted small', id: 'care-team-sees' }, CARE_TEAM_SEES),
    h('p', {}, h('a', { class: 'button', href: '#/trends' }, 'See my trends')),
    recent.length > 0 &&
      h(
        'section',
        {},
        h('h2', {}, 'Recent'),
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
                  c.score != null && h('span', {}, `Score ${c.score}`),
                  stateBadge(c._state),
                ),
              ),
            ),
          ),
        ),
      ),
  );
}

function optionButton(label, pressed, onPick, extra = {}) {
  return h(
    'button',
    { type: 'button', class: 'option', 'aria-pressed': String(pressed), onclick: onPick, ...extra },
    label,
  );
}

async function form(root, instrumentId) {
  const instruments = await getMeta('instruments', []);
  const instrument = instruments.find((i) => i.id === instrumentId);
  if (!instrument) {
    mount(
      root,
      pageTitle('Check in'),
      h('p', { class: 'banner' }, 'This questionnaire is not on this device yet. Connect once and try again.'),
    );
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
          ['Yes', true],
          ['No', false],
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
      return h('div', {}, h('label', { for: id }, 'Hours'), input);
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
      h('label', { for: id }, 'Your note'),
      area,
      h(
        'label',
        { class: 'check', for: 'note-private' },
        priv,
        'Keep this note private (your care team sees the scores only)',
      ),
    );
  }

  function draw() {
    const item = items[index];
    const answered = answers[item.id] != null;
    const typed = item.type === 'number' || item.type === 'text';
    const qid = `q-${item.id}`;
    swap(
      stage,
      h('p', { class: 'muted small' }, `Question ${index + 1} of ${items.length}`),
      h('progress', { max: items.length, value: index + 1, 'aria-label': 'Progress' }),
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
        index > 0 && h('button', { type: 'button', onclick: back }, 'Back'),
        (typed || answered || !item.required) &&
          h(
            'button',
            { type: 'button', class: 'primary', onclick: next },
            index === items.length - 1 ? 'Finish' : answered || typed ? 'Next' : 'Skip',
          ),
      ),
    );
    const focusable = stage.querySelector('.option[aria-pressed="true"], .option, input, textarea');
    focusable?.focus({ preventScroll: true });
  }

  mount(root, pageTitle(instrument.title), stage, await notMonitored());
  draw();
}

async function result(root, id) {
  const draw = async () => {
    const [c, instruments] = await Promise.all([get(STORES.checkin, id), getMeta('instruments', [])]);
    const instrument = instruments.find((i) => i.id === c?.instrument);
    if (!c) {
      swap(root, pageTitle('Check-in'), h('p', {}, 'This check-in is not on this device.'));
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
            c._state === SYNCED ? 'Saved' : STATE_WORDS[LOCAL],
          );
    swap(
      root,
      pageTitle(`${title}: done`),
      h('p', { class: 'saved-line', role: 'status' }, saved),
      c.score != null
        ? h(
            'section',
            { class: 'card', 'aria-labelledby': 'score' },
            h('p', { class: 'result-score', id: 'score' }, `Score ${c.score} of ${MAX_SCORE[c.instrument]}`),
            h('p', { id: 'severity' }, words),
            h(
              'p',
              { class: 'muted small' },
              'Scored the published way. A score is a snapshot, not a diagnosis: talk it through with your therapist.',
            ),
          )
        : c.instrument === 'daily'
          ? h(
              'section',
              { class: 'card' },
              h(
                'ul',
                {},
                [
                  ['Mood', a.mood],
                  ['Anxiety', a.anxiety],
                  ['Sleep quality', a.sleep_quality],
                  ['Hours slept', a.sleep_hours],
                  ['Repetitive thoughts', a.rumination],
                ]
                  .filter(([, v]) => v != null)
                  .map(([k, v]) => h('li', {}, `${k}: ${v}`)),
              ),
            )
          : h('p', { class: 'card' }, 'Some questions were skipped, so there is no total this time.'),
      h('p', { class: 'muted' }, 'Thank you for checking in.'),
      h(
        'div',
        { class: 'actions' },
        h('a', { class: 'button primary', href: `#/trends/${c.instrument}` }, 'See the trend'),
        h('a', { class: 'button', href: '#/today' }, 'Back to Today'),
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
