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
