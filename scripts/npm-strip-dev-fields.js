// After npm ci: drops from every installed package's package.json the fields that only its own
// authors' development uses (devDependencies, and scripts that reach outside the package with
// "../"). npm never reads them again for an installed dependency, and some name folders of their
// authors' repositories (file:../../shared-configs, ../../shared/ts-test-config.json) that do not
// exist here. Usage: node scripts/npm-strip-dev-fields.js NODE_MODULES_DIR...; prints the count.
'use strict';
const fs = require('fs');
const path = require('path');

function strip(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  let pkg;
  try {
    pkg = JSON.parse(text);
  } catch {
    return false;  // not a manifest npm could have installed from; leave it
  }
  let changed = false;
  if (pkg.devDependencies) {
    delete pkg.devDependencies;
    changed = true;
  }
  if (pkg.scripts && typeof pkg.scripts === 'object') {
    for (const [name, cmd] of Object.entries(pkg.scripts)) {
      if (typeof cmd === 'string' && cmd.includes('../')) {
        delete pkg.scripts[name];
        changed = true;
      }
    }
  }
  if (changed) fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
  return changed;
}

// Each package folder below node_modules (scoped ones one level deeper), and their own node_modules.
function walk(modules, out) {
  let entries;
  try {
    entries = fs.readdirSync(modules, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const dir = path.join(modules, e.name);
    if (e.name.startsWith('@')) {
      walk(dir, out);
      continue;
    }
    if (strip(path.join(dir, 'package.json'))) out.count++;
    walk(path.join(dir, 'node_modules'), out);
  }
}

const out = { count: 0 };
for (const dir of process.argv.slice(2)) walk(dir, out);
console.log(`npm-strip-dev-fields: ${out.count} package.json files stripped`);
