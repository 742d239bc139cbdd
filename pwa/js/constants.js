// Constants more than one layer or role needs. It imports nothing, so anything may import
// it: the data layer and the DOM helpers share the sync states without knowing each
// other, and the therapist's screens share the plan's and the parts map's vocabulary
// with the patient's without loading a patient screen.

// -- a record's sync state on this device (outbox.js sets it, ui.js stateBadge says it)
export const LOCAL = 'local';
export const SYNCED = 'synced';
export const ATTENTION = 'attention';

export const DAY_MS = 86_400_000;

// -- the relapse-prevention plan: its sections in order, in the patient's words (the
// therapist's screen uses the keys and kinds: a contact, a line, or free text)
export const PLAN_SECTIONS = [
  {
    key: 'warning_signs',
    title: 'My early warning signs',
    about: 'Thoughts, feelings or behaviours that tell me things are getting harder.',
    examples: ['I stop answering messages', 'I sleep much more than usual'],
  },
  {
    key: 'triggers',
    title: 'What can set things off',
    about: 'Situations, dates or people that make a bad time more likely.',
    examples: ['The anniversary in March', 'Arguments about money'],
  },
  {
    key: 'coping_steps',
    title: 'Things I can do on my own',
    about: 'Small steps that help me get through a hard moment.',
    examples: ['Walk around the block', 'Cold water on my face, slow breathing'],
  },
  {
    key: 'distractions',
    title: 'People and places that take my mind off things',
    about: 'Where I can go, who I can be with, without having to talk about it.',
    examples: ['The café on the corner', 'Video call with my cousin'],
  },
  {
    key: 'support_contacts',
    title: 'People I can ask for help',
    about: 'Friends or family I can call when I am struggling.',
    contact: true,
  },
  {
    key: 'professional_contacts',
    title: 'Professionals I can contact',
    about: 'My therapist, my doctor, a clinic.',
    contact: true,
  },
  {
    key: 'crisis_lines',
    title: 'Crisis lines',
    about: 'Lines I can call or text at any hour. 988 in the US.',
    line: true,
  },
  {
    key: 'safe_environment',
    title: 'Making my surroundings safe',
    about: 'What I can do, or ask someone to do, to keep myself safe.',
    examples: ['Ask a friend to keep my medication'],
  },
  {
    key: 'reasons_for_living',
    title: 'My reasons for living',
    about: 'What matters to me, what I want to be here for.',
    examples: ['My dog, Pepper', 'Seeing my niece grow up'],
  },
  {
    key: 'maintenance_criteria',
    title: 'When to ask for a maintenance session',
    about: 'Signs that it is time to talk to my therapist about another session.',
    examples: ['My PHQ-9 is 10 or more two weeks in a row'],
  },
];

// -- the parts map (IFS): a part's role and a relation's kind, in the order offered
export const PART_ROLES = {
  manager: 'Manager',
  firefighter: 'Firefighter',
  exile: 'Exile',
  self: 'Self',
  unknown: 'Not sure yet',
};
export const PART_RELATIONS = {
  protects: 'protects',
  polarized_with: 'is polarized with',
  allied_with: 'is allied with',
  blended_with: 'is blended with',
};
