// What of a statement's HTML the page may fetch with the viewer's key.

/**
 * The path of one of the statement's own files that `src` names (under `filesUrl`, on
 * this origin, after the URL's `..` and `%2e%2e` are resolved), else null. The statement
 * is a package's, a third party's: with the key, its images must reach nothing else
 * (an admin's keys, another problem's files).
 */
export function statementFile(src, filesUrl, origin) {
  if (!src) return null;
  let url;
  try {
    url = new URL(src, origin);
  } catch {
    return null;
  }
  if (url.origin !== origin || !url.pathname.startsWith(filesUrl) || url.pathname === filesUrl) return null;
  return url.pathname;
}

/** The statement language to show: the one asked for (the reader's last choice) when the
 * problem has it, else English, else the first. */
export function statementLanguage(languages, wanted) {
  if (wanted && languages.includes(wanted)) return wanted;
  return languages.includes("en") ? "en" : languages[0];
}

/** A language's name in itself ("English", "Svenska"), else its code. */
export function languageName(code) {
  try {
    const name = new Intl.DisplayNames([code], { type: "language" }).of(code);
    if (!name || name === code) return code;
    return name.charAt(0).toLocaleUpperCase(code) + name.slice(1);
  } catch {
    return code; // not a code Intl knows
  }
}
