// Where a program's output first differs from the expected output, compared as the
// default checker does (line by line, trailing whitespace and trailing blank lines
// ignored), so the mark lands on what made the answer wrong.

/** @param {string} text */
function lines(text) {
  const all = text.replace(/\r\n?/g, "\n").split("\n").map((l) => l.replace(/[ \t]+$/, ""));
  while (all.length && all[all.length - 1] === "") all.pop();
  return all;
}

/**
 * The first difference: 1-based line and column, or null when they match.
 * @param {string} expected @param {string} got
 * @returns {{line: number, column: number, expected: string|null, got: string|null} | null}
 */
export function firstDifference(expected, got) {
  const want = lines(expected);
  const have = lines(got);
  const n = Math.max(want.length, have.length);
  for (let i = 0; i < n; i++) {
    const a = want[i];
    const b = have[i];
    if (a === b) continue;
    let column = 0;
    if (a !== undefined && b !== undefined) {
      while (column < a.length && column < b.length && a[column] === b[column]) column++;
    }
    return { line: i + 1, column: column + 1, expected: a ?? null, got: b ?? null };
  }
  return null;
}

/**
 * `text` split at the difference: [before, the differing rest of that line, after].
 * The middle part is what the page marks. Offsets are in the text as given.
 * @param {string} text @param {{line: number, column: number}} diff
 */
export function splitAt(text, diff) {
  const rows = text.replace(/\r\n?/g, "\n").split("\n");
  if (diff.line > rows.length) return [text, "", ""];
  const before = rows.slice(0, diff.line - 1).join("\n") + (diff.line > 1 ? "\n" : "");
  const row = rows[diff.line - 1];
  const cut = Math.min(diff.column - 1, row.length);
  const after = diff.line < rows.length ? "\n" + rows.slice(diff.line).join("\n") : "";
  return [before + row.slice(0, cut), row.slice(cut), after];
}
