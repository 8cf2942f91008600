// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { KATEX_OPTIONS, MAX_TEX, texOf, typesetMath } from "../src/math.js";

/** A statement box holding `html`, as the page has it after DOMPurify. */
function box(html) {
  const root = document.createElement("div");
  root.innerHTML = html;
  document.body.replaceChildren(root);
  return root;
}
// The server's form: the TeX as escaped text.
const escaped = (tex) => tex.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
const inline = (tex) => `<p>Let <span class="math inline">${escaped(tex)}</span>.</p>`;
const annotation = (root) => root.querySelector('annotation[encoding="application/x-tex"]')?.textContent;

describe("typesetMath", () => {
  it("typesets inline and display math from the server's elements", () => {
    const root = box(
      '<p>Let <span class="math inline">1 \\le n \\le 10^5</span> and</p>' +
        '<span class="math display">\\sum_{i=1}^n i</span>',
    );
    expect(typesetMath(root)).toBe(2);
    const [first, second] = root.querySelectorAll("span.math");
    expect(first.querySelector(".katex")).not.toBeNull();
    expect(first.querySelector(".katex-display")).toBeNull();
    expect(second.querySelector(".katex-display .katex")).not.toBeNull();
    expect(annotation(first)).toBe("1 \\le n \\le 10^5");
    expect(root.querySelector("p").textContent).toMatch(/^Let /);
  });

  it("reads the TeX as text: markup inside the element never becomes markup", () => {
    const root = box(
      '<span class="math inline">a<img src="x">&lt;img src=x onerror=alert(1)&gt;<b>b</b></span>',
    );
    expect(typesetMath(root)).toBe(1);
    expect(root.querySelector("img, b")).toBeNull();
    expect(annotation(root)).toBe("a<img src=x onerror=alert(1)>b");
  });

  it("takes off the \\( \\) and \\[ \\] an older pandoc writes", () => {
    expect(texOf(box('<span class="math inline">\\(x^2\\)</span>').firstChild)).toBe("x^2");
    expect(texOf(box('<span class="math display">\\[ y \\]</span>').firstChild)).toBe(" y ");
    expect(texOf(box('<span class="math inline">\\(a\\) + \\(b\\)</span>').firstChild)).toBe("a\\) + \\(b");
  });

  it("leaves other elements alone", () => {
    const html = '<p><span>$x$</span> <span class="math">y</span> <code>$z$</code></p>';
    const root = box(html);
    expect(typesetMath(root)).toBe(0);
    expect(root.innerHTML).toBe(html);
  });

  it("shows a formula it cannot read as written, with KaTeX's message", () => {
    const root = box(inline("\\frac{1}{"));
    expect(typesetMath(root)).toBe(0);
    const math = root.querySelector("span.math");
    expect(math.classList.contains("math-error")).toBe(true);
    expect(math.textContent).toBe("\\frac{1}{");
    expect(math.title).toMatch(/KaTeX parse error/);
    expect(math.hasAttribute("style")).toBe(false); // the page's CSP refuses style attributes
  });

  it("is bounded: no links, no HTML extensions, capped sizes, bounded expansion", () => {
    expect(KATEX_OPTIONS).toMatchObject({ trust: false, maxExpand: 1000, maxSize: 10 });
    expect(Number.isFinite(KATEX_OPTIONS.maxSize)).toBe(true);
  });
});

describe("hostile TeX", () => {
  const hostile = [
    "\\href{javascript:alert(1)}{click}",
    "\\url{javascript:alert(1)}",
    "\\href{https://evil.example}{x}",
    "\\htmlClass{skip}{x}",
    "\\htmlId{problem}{x}",
    "\\htmlStyle{position:fixed;inset:0}{x}",
    "\\htmlData{foo=bar}{x}",
    "\\includegraphics{https://evil.example/x.png}",
    "\\text{<script>window.pwned=1</script>}",
    "</span><script>window.pwned=1</script>",
  ];
  for (const tex of hostile) {
    it(`gets nothing but math through: ${tex}`, () => {
      const root = box(inline(tex));
      typesetMath(root);
      expect(root.querySelector("a, script, img, iframe, [href], [src], #problem, .skip, [data-foo]")).toBeNull();
      for (const node of root.querySelectorAll("[style]")) {
        expect(node.style.position).not.toBe("fixed");
      }
      expect(window.pwned).toBeUndefined();
    });
  }

  it("caps a huge \\rule to maxSize", () => {
    const root = box(inline("\\rule{100000em}{100000em}\\kern{100000em}\\hspace{100000em}"));
    expect(typesetMath(root)).toBe(1);
    const sizes = [...root.querySelectorAll("[style]")].map((node) => node.getAttribute("style"));
    const ems = sizes.flatMap((value) => [...value.matchAll(/(-?[\d.]+)em/g)].map((m) => Math.abs(Number(m[1]))));
    expect(ems.length).toBeGreaterThan(0);
    expect(Math.max(...ems)).toBeLessThanOrEqual(20); // 10 em, scaled a little at most
  });

  it("stops macro bombs quickly", () => {
    const bombs = [
      "\\def\\a{\\a\\a}\\a",
      "\\def\\a{x}\\def\\b{\\a\\a\\a\\a\\a\\a\\a\\a}\\def\\c{\\b\\b\\b\\b\\b\\b\\b\\b}\\def\\d{\\c\\c\\c\\c\\c\\c\\c\\c}\\def\\e{\\d\\d\\d\\d\\d\\d\\d\\d}\\e\\e\\e\\e",
      "\\newcommand{\\x}{\\x}\\x",
    ];
    const started = performance.now();
    const root = box(bombs.map(inline).join(""));
    expect(typesetMath(root)).toBe(0);
    for (const math of root.querySelectorAll("span.math")) {
      expect(math.classList.contains("math-error")).toBe(true);
      expect(math.title).toMatch(/Too many expansions/);
    }
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("does not typeset a formula past its length bound", () => {
    const root = box(inline("x".repeat(MAX_TEX + 1)));
    expect(typesetMath(root)).toBe(0);
    expect(root.querySelector(".math-error").textContent).toHaveLength(MAX_TEX + 1);
  });
});
