// Builds the pages the Python package serves into codeexec/http/static/ (package data,
// not committed): / (the judge page in web/, bundled by Vite into static/web/) and /docs
// (Swagger UI's files from node_modules and our own page, into static/docs/).
// docs/VERSION is written last: scripts/frontend.sh takes it for "the build is current".
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(here, "..", "codeexec", "http", "static", "docs");
const swagger = join(here, "node_modules", "swagger-ui-dist");
const ours = join(here, "src", "docs");
// What the page needs of swagger-ui-dist (its own index.html loads a sample petstore).
const assets = ["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "LICENSE"];

rmSync(out, { recursive: true, force: true });
await build({ configFile: join(here, "vite.config.mjs") });
mkdirSync(out, { recursive: true });
for (const name of assets) copyFileSync(join(swagger, name), join(out, name));
for (const name of readdirSync(ours)) copyFileSync(join(ours, name), join(out, name));
const version = JSON.parse(readFileSync(join(swagger, "package.json"), "utf8")).version;
writeFileSync(join(out, "VERSION"), `swagger-ui-dist ${version}\n`);
console.log(`built ${dirname(out)}/{web,docs} (swagger-ui-dist ${version})`);
