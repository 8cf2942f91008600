// What the page says about a judged job: pure functions, unit-tested.

/**
 * The status line's text. It ends with the verdict code and the passed counts, e.g.
 * "Judged: AC, shown 2/2 passed, hidden 2/2 passed".
 * @param {string} verdict
 * @param {{passed: number, failed: number}} shown
 * @param {{passed: number, failed: number} | null} hidden
 */
export function statusText(verdict, shown, hidden, label = "Judged") {
  const part = (name, c) => `${name} ${c.passed}/${c.passed + c.failed} passed`;
  const parts = [`${label}: ${verdict}`, part("shown", shown)];
  if (hidden) parts.push(part("hidden", hidden));
  return parts.join(", ");
}

/**
 * A scoring problem's score for the status line: ", score 40/100" (", score 7" when
 * unbounded); "" for a pass-fail problem's job (no `score`).
 * @param {number | null | undefined} score
 * @param {number | null | undefined} maxScore
 */
export function scoreText(score, maxScore) {
  if (score === null || score === undefined) return "";
  return maxScore === null || maxScore === undefined
    ? `, score ${score}`
    : `, score ${score}/${maxScore}`;
}

/** Live counts from `test` events: {position, verdict, hidden}. */
export function countEvents(events) {
  const shown = { passed: 0, failed: 0 };
  const hidden = { passed: 0, failed: 0 };
  for (const e of events) {
    const c = e.hidden ? hidden : shown;
    if (e.verdict === "AC") c.passed++;
    else c.failed++;
  }
  return { shown, hidden };
}

/** "1.2 MB" / "840 KB" from kilobytes; "" when not measured. */
export function formatMemory(kb) {
  if (kb === null || kb === undefined) return "";
  return kb >= 1024 ? `${(kb / 1024).toFixed(1)} MB` : `${kb} KB`;
}

export function formatTime(ms) {
  return ms === null || ms === undefined ? "" : `${ms} ms`;
}
