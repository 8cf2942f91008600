// A statement's math, typeset with KaTeX. The server gives it in one form, from Markdown
// and LaTeX alike: the TeX as text in <span class="math inline|display">.
import katex from "katex";
import "katex/dist/katex.min.css"; // bundled by Vite with its fonts: nothing from elsewhere

// The TeX is a package's, a third party's: no \href, \url, \htmlClass, \includegraphics
// (trust), sizes capped (\rule{1e6em}{1e6em}), macro expansion bounded (\def\a{\a\a}).
// A formula KaTeX cannot read is shown as written: errors are caught here, not left to
// KaTeX (throwOnError: false), whose error element sets a style attribute that the
// page's CSP refuses.
export const KATEX_OPTIONS = Object.freeze({
  throwOnError: true,
  trust: false,
  strict: "ignore",
  maxSize: 10, // em
  maxExpand: 1000,
  output: "htmlAndMathml",
});
// Bounds on the work one statement can ask of the page (a statement is at most 1 MiB).
export const MAX_FORMULAE = 5000;
export const MAX_TEX = 5000;

/** The TeX of a math element: its text, without \( \) or \[ \] around it (an older
 * pandoc writes them). */
export function texOf(element) {
  const tex = (element.textContent ?? "").trim();
  const wrapped = /^\\\(([\s\S]*)\\\)$/.exec(tex) ?? /^\\\[([\s\S]*)\\\]$/.exec(tex);
  return wrapped ? wrapped[1] : tex;
}

/** Typesets the math elements under `root` in place; one that cannot be typeset keeps
 * its TeX as text (class `math-error`, KaTeX's message as its title). Returns how many
 * were typeset. */
export function typesetMath(root) {
  const found = [...root.querySelectorAll("span.math.inline, span.math.display")];
  let typeset = 0;
  for (const element of found.slice(0, MAX_FORMULAE)) {
    if (!root.contains(element)) continue; // it was inside one typeset already
    const tex = texOf(element);
    const displayMode = element.classList.contains("display");
    try {
      if (tex.length > MAX_TEX) throw new Error(`longer than ${MAX_TEX} characters`);
      katex.render(tex, element, { ...KATEX_OPTIONS, displayMode });
      typeset += 1;
    } catch (error) {
      element.textContent = tex;
      element.classList.add("math-error");
      element.title = String(error?.message ?? error);
    }
  }
  return typeset;
}
