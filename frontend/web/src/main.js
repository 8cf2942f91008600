// The judge page: pick a problem and a language, write code, run the samples or submit,
// and watch the verdicts arrive. Everything goes through codeexec's own API.
import DOMPurify from "dompurify";
import { marked } from "marked";
import { ApiError, api, authHeaders, openEvents, session } from "./api.js";
import { firstDifference, splitAt } from "./diff.js";
import { createEditor } from "./editor.js";
import { TEMPLATES } from "./languages.js";
import { countEvents, formatMemory, formatTime, scoreText, statusText } from "./results.js";
import { followEvents } from "./sse.js";
import { languageName, statementFile, statementLanguage } from "./statement.js";
import "./style.css";

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

const AD_HOC = ":run"; // the problem id of ad-hoc runs (codeexec.model.AD_HOC_ID)
const nonce = document.querySelector('meta[name="csp-nonce"]')?.content ?? "";
const editor = createEditor($("editor"), nonce);
const state = {
  problem: null, // the open problem, as GET /api/v1/problems/{id} answers
  languages: new Map(), // id -> as GET /api/v1/languages lists it
  language: null,
  drafts: new Map(), // language id -> the text last written in it
  run: 0, // the judging shown; older ones' updates are dropped
};

function say(text) {
  $("status").textContent = text;
}

function failed(error) {
  if (error instanceof ApiError && error.status === 401) {
    showSignIn(true);
    say(`${error.message}. Sign in with an API key.`);
  } else {
    say(`Error: ${error.message}`);
  }
}

// --- signing in -----------------------------------------------------------------

function showSignIn(needed) {
  const key = session.key();
  $("signin").hidden = Boolean(key);
  $("signed-in").hidden = !key;
  if (needed && !key) $("api-key").focus();
}

async function checkAdmin() {
  let admin = false;
  if (session.key()) {
    try {
      await api("/api/v1/keys?limit=1");
      admin = true;
    } catch {
      admin = false;
    }
  }
  $("import-section").hidden = !admin;
  $("who").textContent = admin ? "Signed in (admin)" : "Signed in";
}

$("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (!key) return;
  session.signIn(key);
  $("api-key").value = "";
  showSignIn(false);
  await start();
});

$("signout").addEventListener("click", async () => {
  session.signOut();
  showSignIn(false);
  $("import-section").hidden = true;
  $("api-key").focus();
  await start();
});

// --- problems -----------------------------------------------------------------------

async function loadProblems(select) {
  const list = await api("/api/v1/problems?limit=200");
  const box = $("problem");
  box.replaceChildren(
    ...list.items.map((p) => el("option", { value: p.id, textContent: `${p.title || p.id} (${p.id})` })),
  );
  if (!list.items.length) {
    say("No problems yet: import one (admin) or create one through the API.");
    return;
  }
  const chosen = list.items.some((p) => p.id === select) ? select : list.items[0].id;
  box.value = chosen;
  await openProblem(chosen);
}

function limit(value, unit) {
  return value === null || value === undefined ? "server default" : `${value} ${unit}`;
}

// Markdown from the problem's author (an imported package's: a third party), sanitised:
// no script, no form to ask for a key, no inline style (the CSP refuses it anyway), and
// its ids and names prefixed ("user-content-"), so that none stands in for one of the
// page's own elements (document.getElementById finds the statement's first).
const STATEMENT = {
  SANITIZE_NAMED_PROPS: true,
  FORBID_TAGS: ["form", "input", "button", "select", "textarea", "style"],
  FORBID_ATTR: ["style"],
};

function markdownStatement(problem, box) {
  if (problem.statement) {
    box.innerHTML = DOMPurify.sanitize(marked.parse(problem.statement, { async: false }), STATEMENT);
  } else {
    box.replaceChildren(el("p", { className: "muted", textContent: "This problem has no statement." }));
  }
}

/** A file of this service fetched with the key (an <img> or a link cannot send it). */
async function fileUrl(path) {
  const response = await fetch(path, { headers: authHeaders(), credentials: "omit" });
  if (!response.ok) throw new ApiError(response.status, null);
  return URL.createObjectURL(await response.blob());
}

/** The statement's images, through the key when there is one; only its own files
 * (`filesUrl`): an image elsewhere is not asked for at all. */
async function showImages(box, filesUrl) {
  for (const img of box.querySelectorAll("img[src]")) {
    const path = statementFile(img.getAttribute("src"), filesUrl, location.origin);
    if (path === null) img.removeAttribute("src");
    else if (session.key()) img.src = await fileUrl(path).catch(() => "");
    // else: served to anyone, the <img> loads it itself
  }
}

function fileLink(name, path, download) {
  const link = el("a", { href: path, textContent: name });
  if (download) link.download = name;
  link.addEventListener("click", (event) => {
    if (!session.key()) return;
    event.preventDefault();
    fileUrl(path)
      .then((url) => el("a", { href: url, download: name }).click())
      .catch(failed);
  });
  return link;
}

// The statement language the reader last chose, for this tab (another problem shows it
// too when it has it).
const LANGUAGE_KEY = "codeexec.statement-language";
let statementShown = 0; // the statement being shown; an older one's answer is dropped

/** The select of the problem's statement languages, shown when it has more than one. */
function renderLanguageSwitch(problem, language) {
  const languages = problem.statement_languages ?? [];
  const select = $("statement-language");
  select.replaceChildren(
    ...languages.map((code) => el("option", { value: code, lang: code, textContent: languageName(code) })),
  );
  if (language) select.value = language;
  $("statement-languages").hidden = languages.length < 2;
}

/** The stored statement as HTML (sanitised by the server, and again here; its math
 * typeset), in the chosen language, else English, else the first; a PDF when that is
 * all there is in it; else the Markdown `statement` field. Then the attachments. */
async function renderStatement(problem, wanted = sessionStorage.getItem(LANGUAGE_KEY)) {
  const box = $("statement");
  const language = statementLanguage(problem.statement_languages ?? [], wanted);
  const shown = ++statementShown;
  const stale = () => state.problem !== problem || shown !== statementShown;
  renderLanguageSwitch(problem, language);
  const id = encodeURIComponent(problem.id);
  let done = false;
  if (language) {
    try {
      const answer = await api(`/api/v1/problems/${id}/statement?lang=${encodeURIComponent(language)}&format=html`);
      if (stale()) return; // another problem or language was chosen meanwhile
      box.innerHTML = DOMPurify.sanitize(answer.content, STATEMENT);
      box.lang = language;
      // KaTeX (its script, styles and fonts) is loaded when a statement has math.
      const math = box.querySelector("span.math") ? await import("./math.js") : null;
      if (stale()) return; // its box holds another statement now
      math?.typesetMath(box);
      await showImages(box, answer.files_url);
      done = true;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 406) throw error;
      const pdf = problem.statements.find((s) => s.language === language && s.format === "pdf");
      if (pdf && !stale()) {
        box.replaceChildren(el("p", {}, "The statement is a PDF: ", fileLink(pdf.name, pdf.url, false)));
        box.lang = language;
        done = true;
      }
    }
  }
  if (stale()) return;
  if (!done) {
    box.removeAttribute("lang");
    markdownStatement(problem, box);
  }
  const attachments = problem.attachments ?? [];
  if (attachments.length) {
    box.append(
      el("h4", { textContent: "Attachments", lang: "en" }),
      el("ul", { className: "attachments" }, ...attachments.map((a) => el("li", {}, fileLink(a.name, a.url, true)))),
    );
  }
}

$("statement-language").addEventListener("change", () => {
  const language = $("statement-language").value;
  sessionStorage.setItem(LANGUAGE_KEY, language);
  if (state.problem) renderStatement(state.problem, language).catch(failed);
});

// An interactive problem's program talks with the judge's interactor: a test's "input"
// is the interactor's, and there is no output to compare.
const interactive = (problem) => problem?.checker?.mode === "interactive";

function renderSamples(problem) {
  const shown = problem.tests.filter((t) => !t.hidden);
  const hidden = problem.tests.length - shown.length;
  const talks = interactive(problem);
  const items = shown.map((t, i) =>
    el(
      "div",
      { className: "sample" },
      el("h4", { textContent: `Sample ${i + 1}${t.name ? ` (${t.name})` : ""}` }),
      el("div", { className: "io" },
        el("figure", {}, el("figcaption", { textContent: talks ? "Interactor's input" : "Input" }), el("pre", { textContent: t.input ?? "(binary)" })),
        ...(talks ? [] : [el("figure", {}, el("figcaption", { textContent: "Output" }), el("pre", { textContent: t.expected_output ?? "(binary)" }))]),
      ),
    ),
  );
  const notes = [el("p", { className: "muted", textContent: `${hidden} hidden test${hidden === 1 ? "" : "s"} (counts only).` })];
  if (talks) {
    notes.unshift(el("p", { className: "interactive-note", textContent: "Interactive problem: your program talks with the judge's interactor (read its messages, flush what you write); the interactor decides each test." }));
  }
  $("samples").replaceChildren(...items, ...notes);
}

async function openProblem(id) {
  const problem = await api(`/api/v1/problems/${encodeURIComponent(id)}`);
  state.problem = problem;
  $("problem-title").textContent = problem.title || problem.id;
  const available = [...state.languages.values()].filter((l) => l.available).length;
  $("limits").replaceChildren(
    ...[
      ["Time", limit(problem.time_limit_ms, "ms")],
      ["Memory", limit(problem.memory_limit_mb, "MB")],
      ["Output", limit(problem.output_limit_kb, "KB")],
      ["Checker", problem.checker.mode],
      ["Languages", `any of the ${available} available`],
    ].flatMap(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: v })]),
  );
  renderSamples(problem);
  await renderStatement(problem);
  clearResults();
}

$("problem").addEventListener("change", () => openProblem($("problem").value).catch(failed));

// --- languages and the editor -----------------------------------------------------

async function loadLanguages() {
  const { languages } = await api("/api/v1/languages");
  state.languages = new Map(languages.map((l) => [l.id, l]));
  $("language").replaceChildren(
    ...languages.map((l) =>
      el("option", {
        value: l.id,
        disabled: !l.available,
        textContent: l.available ? l.name : `${l.name} (${l.preparing ? "being prepared" : "unavailable"})`,
      }),
    ),
  );
  const first = languages.find((l) => l.id === "python" && l.available) ?? languages.find((l) => l.available);
  if (first) await switchLanguage(first.id);
}

async function switchLanguage(id) {
  if (state.language) state.drafts.set(state.language, editor.text);
  state.language = id;
  $("language").value = id;
  editor.text = state.drafts.get(id) ?? TEMPLATES[id] ?? "";
  await editor.setLanguage(id);
}

$("language").addEventListener("change", () => switchLanguage($("language").value));

// --- results --------------------------------------------------------------------------

function clearResults() {
  state.run++;
  $("results-body").replaceChildren();
  $("details").replaceChildren();
  $("hidden-counts").textContent = "";
  $("compile-output").hidden = true;
  $("compile-label").hidden = true;
  say("");
}

function row(position, label) {
  let tr = document.getElementById(`test-${position}`);
  if (!tr) {
    tr = el("tr", { id: `test-${position}` },
      el("th", { scope: "row", textContent: label ?? `Test ${position}` }),
      el("td", { className: "verdict", textContent: "…" }),
      el("td", { className: "time" }), el("td", { className: "memory" }));
    $("results-body").append(tr);
  }
  return tr;
}

function fillRow(position, { verdict, time_ms, memory_kb }) {
  const tr = row(position);
  const cell = tr.querySelector(".verdict");
  cell.textContent = verdict ?? "…";
  cell.dataset.verdict = verdict ?? "";
  if (time_ms !== undefined) tr.querySelector(".time").textContent = formatTime(time_ms);
  if (memory_kb !== undefined) tr.querySelector(".memory").textContent = formatMemory(memory_kb);
}

function pendingRows(prefix) {
  const shown = state.problem.tests.filter((t) => !t.hidden);
  shown.forEach((t, i) => row(t.position, `${prefix} ${i + 1}`));
  return shown;
}

function marked_(text, diff) {
  const [before, rest, after] = diff ? splitAt(text, diff) : [text, "", ""];
  return el("pre", {}, before, ...(rest ? [el("mark", { textContent: rest })] : []), after);
}

function showDifference(label, verdict, expected, got, stderr, feedback) {
  if (verdict === "AC" || verdict === "CE") return;
  const items = [el("h3", { textContent: `${label}: ${verdict}` })];
  if (interactive(state.problem)) {
    if (feedback) items.push(el("p", { className: "feedback", textContent: `Interactor: ${feedback}` }));
    if (got) items.push(el("figure", {}, el("figcaption", { textContent: "Your program wrote" }), el("pre", { textContent: got })));
  } else if (verdict === "WA" && expected !== null && got !== null) {
    const diff = firstDifference(expected ?? "", got ?? "");
    if (diff) {
      items.push(el("p", { className: "where", textContent: `First difference: line ${diff.line}, column ${diff.column}.` }));
    }
    items.push(
      el("div", { className: "io" },
        el("figure", {}, el("figcaption", { textContent: "Expected" }), marked_(expected, diff)),
        el("figure", {}, el("figcaption", { textContent: "Got" }), marked_(got, diff))),
    );
  }
  if (stderr) items.push(el("figure", {}, el("figcaption", { textContent: "Standard error" }), el("pre", { textContent: stderr })));
  $("details").append(el("section", { className: "difference" }, ...items));
}

function showCompileOutput(text) {
  if (!text) return;
  $("compile-output").textContent = text;
  $("compile-output").hidden = false;
  $("compile-label").hidden = false;
}

// --- judging --------------------------------------------------------------------------

function source() {
  const language = state.languages.get(state.language);
  return { language: state.language, files: [{ name: language.source_file, content: editor.text }] };
}

function noteEvent(kind, data, live) {
  if (kind === "queued") say("Queued…");
  else if (kind === "started") say("Running…");
  else if (kind === "compiled" && !data.ok) say("Compile error…");
  else if (kind === "requeued") say("Queued again…");
  else if (kind === "paused") say("Paused (resume it through the API)…");
  else if (kind === "resumed") say("Resumed…");
  else if (kind === "released") say("Paused; it runs again from its start when resumed…");
  else if (kind === "test") {
    live.push(data);
    if (!data.hidden) fillRow(data.position, data); // verdict, time and memory as they come
    const { hidden } = countEvents(live);
    // data.position is the problem's numbering (Run samples may judge tests 2 and 4);
    // data.total counts the tests judged.
    say(`Running… ${live.length} of ${data.total} judged: ${data.verdict}`);
    if (hidden.passed + hidden.failed) {
      $("hidden-counts").textContent = `Hidden tests: ${hidden.passed} passed, ${hidden.failed} failed so far.`;
    }
  }
}

const samplesOnly = (job) => job.scope === "shown";

function showJob(job) {
  for (const result of job.results ?? []) {
    if (result.hidden) continue;
    fillRow(result.position, result);
    const label = row(result.position).querySelector("th").textContent;
    showDifference(label, result.verdict, result.expected ?? null, result.got ?? null, result.stderr, result.feedback);
  }
  showCompileOutput(job.compile_output);
  if (job.tests?.hidden && !samplesOnly(job)) {
    const h = job.tests.hidden;
    $("hidden-counts").textContent = `Hidden tests: ${h.passed} passed, ${h.failed} failed.`;
  }
  if (job.status === "finished") {
    const [hidden, label] = samplesOnly(job) ? [null, "Samples"] : [job.tests.hidden, "Judged"];
    const scored = scoreText(job.score, job.max_score); // scoring problems only
    say(statusText(job.verdict, job.tests.shown, hidden, label) + scored);
  } else if (job.status === "failed") say(`Failed: ${job.error ?? "could not be judged"}`);
  else if (job.status === "cancelled") say("Cancelled");
}

// Submit judges every test; Run samples only the shown ones (scope "shown"). Either is
// one job, compiled once and judged with the problem's own checker and limits, whose
// verdicts arrive test by test from its events.
async function judge(scope) {
  clearResults();
  const run = state.run;
  const samples = scope === "shown";
  const shown = pendingRows(samples ? "Sample" : "Test");
  if (samples && !shown.length) {
    say("This problem has no sample tests.");
    return;
  }
  say(samples ? "Running the samples…" : "Submitting…");
  const body = { problem_id: state.problem.id, ...source(), scope };
  const job = await api("/api/v1/submissions", { method: "POST", json: body });
  const live = [];
  await followEvents(openEvents(job.id), (kind, data) => {
    if (run === state.run) noteEvent(kind, data, live);
  });
  const done = await api(`/api/v1/submissions/${encodeURIComponent(job.id)}`);
  if (run !== state.run) return;
  showJob(done);
  await loadHistory();
}

function judging(action) {
  return () => {
    if (!state.problem || !state.language) return;
    action().catch(failed);
  };
}
$("run").addEventListener("click", judging(() => judge("shown")));
$("submit").addEventListener("click", judging(() => judge("all")));

// --- recent submissions ---------------------------------------------------------------

async function loadHistory() {
  let list;
  try {
    list = await api("/api/v1/submissions?limit=30");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    throw error;
  }
  // Ad-hoc runs (POST /api/v1/runs) are jobs too, of no stored problem: not listed here.
  const items = list.items.filter((job) => job.problem_id !== AD_HOC).slice(0, 10).map((job) => {
    const when = new Date(job.created_at).toLocaleString();
    const verdict = job.verdict ?? job.status;
    const what = samplesOnly(job) ? " · samples" : "";
    const open = el("button", { type: "button", className: "link", textContent: `${job.problem_id} · ${job.language} · ${verdict}${what}` });
    const kind = samplesOnly(job) ? "samples run" : "submission";
    open.setAttribute("aria-label", `Open ${kind} of ${when}: ${job.problem_id}, ${job.language}, ${verdict}`);
    open.addEventListener("click", () => reopen(job.id).catch(failed));
    return el("li", {}, open, " ", el("time", { dateTime: job.created_at, textContent: when }));
  });
  $("history").replaceChildren(...(items.length ? items : [el("li", { className: "muted", textContent: "None yet." })]));
}

async function reopen(id) {
  const job = await api(`/api/v1/submissions/${encodeURIComponent(id)}`);
  if (state.problem?.id !== job.problem_id) {
    $("problem").value = job.problem_id;
    await openProblem(job.problem_id);
  }
  if (state.languages.get(job.language)?.available) await switchLanguage(job.language);
  const language = state.languages.get(job.language);
  const file = job.files.find((f) => f.name === language?.source_file) ?? job.files[0];
  if (file) editor.text = file.content;
  clearResults();
  pendingRows(samplesOnly(job) ? "Sample" : "Test");
  showJob(job);
  $("results-heading").scrollIntoView({ block: "start" });
}

$("refresh-history").addEventListener("click", () => loadHistory().catch(failed));

// --- importing a problem (admins) -------------------------------------------------

$("import-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData();
  const file = $("package").files[0];
  if (!file) return;
  form.append("package", file);
  const id = $("import-id").value.trim();
  if (id) form.append("id", id);
  $("import-report").textContent = "Importing…";
  try {
    const report = await api("/api/v1/problems/import", { method: "POST", body: form });
    $("import-report").textContent = [
      `Imported ${report.id}: ${report.title} (version ${report.version}, ${report.layout} layout)`,
      `Tests: ${report.tests.shown} shown, ${report.tests.hidden} hidden; checker: ${report.checker.mode}`,
      ...report.notes.map((n) => `Note: ${n}`),
    ].join("\n");
    await loadProblems(report.id);
  } catch (error) {
    $("import-report").textContent = `Import failed: ${error.message}`;
  }
});

// --- start ------------------------------------------------------------------------------

async function start() {
  showSignIn(false);
  try {
    await loadLanguages();
    await loadProblems($("problem").value);
    await Promise.all([loadHistory(), checkAdmin()]);
  } catch (error) {
    failed(error);
  }
}

start();
