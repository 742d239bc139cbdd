// Scoring on the device, exactly as published (the server scores again and its answer
// wins once synced). PHQ-9 0-27: minimal 0-4, mild 5-9, moderate 10-14, moderately
// severe 15-19, severe 20-27. GAD-7 0-21: minimal 0-4, mild 5-9, moderate 10-14,
// severe 15-21. An incomplete questionnaire gets no total.

export const BANDS = {
  phq9: [
    [4, 'minimal'],
    [9, 'mild'],
    [14, 'moderate'],
    [19, 'moderately severe'],
    [27, 'severe'],
  ],
  gad7: [
    [4, 'minimal'],
    [9, 'mild'],
    [14, 'moderate'],
    [21, 'severe'],
  ],
};
export const MAX_SCORE = { phq9: 27, gad7: 21 };

export function isRiskAnswer(item, value) {
  if (!item.risk) return false;
  return value === true || (typeof value === 'number' && value > 0);
}

export function scoreLocally(instrument, answers) {
  const items = instrument.items;
  const given = Object.fromEntries(Object.entries(answers).filter(([, v]) => v != null));
  const complete = items.every((i) => !i.required || i.id in given);
  const risk = items.some((i) => isRiskAnswer(i, given[i.id]));
  const bands = BANDS[instrument.id];
  if (!bands || !complete) return { score: null, severity: null, complete, risk };
  const score = items.filter((i) => i.scored).reduce((sum, i) => sum + given[i.id], 0);
  const severity = bands.find(([upper]) => score <= upper)[1];
  return { score, severity, complete, risk };
}
