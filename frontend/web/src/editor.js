// The code editor: CodeMirror 6, its language swapped in a compartment. Tab is left to
// move focus (keyboard users can leave the editor); highlighting uses classes, coloured
// by style.css for light and dark schemes.
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { bracketMatching, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { Compartment, EditorState } from "@codemirror/state";
import {
  EditorView, drawSelection, highlightActiveLine, keymap, lineNumbers,
} from "@codemirror/view";
import { classHighlighter } from "@lezer/highlight";
import { highlighting } from "./languages.js";

export function createEditor(parent, nonce) {
  const language = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: "",
      extensions: [
        lineNumbers(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        syntaxHighlighting(classHighlighter),
        keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap]),
        language.of([]),
        EditorView.contentAttributes.of({ "aria-label": "Source code" }),
        EditorView.cspNonce.of(nonce),
      ],
    }),
  });
  let wanted = null;
  return {
    view,
    get text() {
      return view.state.doc.toString();
    },
    set text(value) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: value } });
    },
    async setLanguage(id) {
      wanted = id;
      const support = await highlighting(id);
      if (wanted === id) view.dispatch({ effects: language.reconfigure(support) });
    },
  };
}
