// Runs Shopify's theme-check on the theme app extension; called by scripts/theme-check, which
// installs the pinned @shopify/theme-check-node first. Exit status 1 on any error.
//
// Three passes:
//  1. theme-check itself, on the extension directory with no config file: a directory holding
//     shopify.extension.toml gets the theme-check:theme-app-extension preset, exactly as the
//     Shopify CLI checks an extension on `shopify app deploy`.
//  2. That preset validates locale files but not the {% schema %} of app blocks (Shopify does
//     that server-side on deploy). So each block's settings are also run through theme-check's
//     JSON schema for theme blocks, minus the keys only app blocks have.
//  3. The rules Shopify applies on deploy that no JSON schema expresses (select defaults,
//     range steps), and this project's own rule: blocks render a container, never a script.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { themeCheckRun, Severity } = require('@shopify/theme-check-node');

const root = path.resolve(process.argv[2] || path.join(__dirname, 'shoprecs-theme'));
const verbose = process.argv.includes('-v');
const SEVERITY = { [Severity.ERROR]: 'error', [Severity.WARNING]: 'warning', [Severity.INFO]: 'info' };
const APP_ONLY_KEYS = ['target', 'javascript', 'stylesheet', 'enabled_on', 'disabled_on', 'available_if'];
const quiet = () => {};

function schemaOf(text) {
  const m = /{%-?\s*schema\s*-?%}([\s\S]*?){%-?\s*endschema\s*-?%}/.exec(text);
  return m ? JSON.parse(m[1]) : null;
}

function report(offenses, base, label) {
  let errors = 0;
  let others = 0;
  for (const o of offenses) {
    if (o.severity === Severity.ERROR) errors++;
    else others++;
    if (o.severity !== Severity.ERROR && !verbose) continue;
    const file = path.relative(base, new URL(o.uri).pathname);
    const where = o.start ? `:${o.start.line + 1}:${o.start.character + 1}` : '';
    console.log(`${label}${file}${where}: ${SEVERITY[o.severity]} ${o.check}: ${o.message}`);
  }
  return { errors, others };
}

// Pass 1.
async function themeAppExtension() {
  const { config, offenses } = await themeCheckRun(root, undefined, quiet);
  if (config.context !== 'app') {
    throw new Error(`expected the theme-app-extension preset (context app), got ${config.context}`);
  }
  const counts = report(offenses, root, 'shoprecs-theme/');
  console.log(`theme-check: theme-app-extension preset, ${config.checks.length} checks: ` +
    `${counts.errors} errors, ${counts.others} warnings/info`);
  return counts;
}

// Pass 2.
async function blockSchemas(blocks) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shoprecs-theme-check-'));
  try {
    fs.mkdirSync(path.join(tmp, 'blocks'));
    fs.cpSync(path.join(root, 'locales'), path.join(tmp, 'locales'), { recursive: true });
    for (const [file, schema] of blocks) {
      const copy = JSON.parse(JSON.stringify(schema));
      for (const key of APP_ONLY_KEYS) delete copy[key];
      for (const setting of copy.settings || []) delete setting.autofill;
      fs.writeFileSync(path.join(tmp, 'blocks', file),
        `{% schema %}\n${JSON.stringify(copy, null, 2)}\n{% endschema %}\n`);
    }
    const configPath = path.join(tmp, 'theme-check.yml');
    fs.writeFileSync(configPath, [
      'extends: theme-check:nothing',
      'ValidSchema:', '  enabled: true',
      'ValidSchemaTranslations:', '  enabled: true',
      'UniqueSettingId:', '  enabled: true',
      '',
    ].join('\n'));
    const { config, offenses } = await themeCheckRun(tmp, configPath, quiet);
    const counts = report(offenses, tmp, 'shoprecs-theme/ (block schema) ');
    console.log(`theme-check: block settings as theme-block schemas, ${config.checks.length} checks: ` +
      `${counts.errors} errors, ${counts.others} warnings/info`);
    return counts;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// Pass 3.
function deployRules(blocks, sources) {
  const problems = [];
  for (const [file, schema] of blocks) {
    const say = (msg) => problems.push(`shoprecs-theme/blocks/${file}: error ${msg}`);
    const markup = sources.get(file).replace(/{%-?\s*schema\s*-?%}[\s\S]*$/, '');
    if (/<script|<style/i.test(markup)) say('renders a <script> or <style>; use the schema javascript/stylesheet keys');
    if (!/\sdata-shoprecs-block[\s>]/.test(markup)) say('has no data-shoprecs-block container');
    if (!/{{\s*block\.shopify_attributes\s*}}/.test(markup)) say('does not render block.shopify_attributes');
    if (schema.target !== 'section') say(`target is ${JSON.stringify(schema.target)}, expected "section"`);
    for (const s of schema.settings || []) {
      const id = `setting ${s.id}`;
      if (s.type === 'select' || s.type === 'radio') {
        const values = (s.options || []).map((o) => o.value);
        if (s.default !== undefined && !values.includes(s.default)) say(`${id}: default ${s.default} is not an option`);
      }
      if (s.type === 'range') {
        const { min, max, step = 1 } = s;
        const steps = (max - min) / step;
        if (!(min < max) || !(step > 0)) say(`${id}: needs min < max and step > 0`);
        if (!Number.isInteger(Math.round(steps * 1e6) / 1e6) || steps > 101) say(`${id}: (max - min) / step must be a whole number ≤ 101`);
        if (s.default === undefined) say(`${id}: a range needs a default`);
        else if (s.default < min || s.default > max || !Number.isInteger(Math.round(((s.default - min) / step) * 1e6) / 1e6)) {
          say(`${id}: default ${s.default} is not a step between ${min} and ${max}`);
        }
      }
      if (s.autofill && !['product', 'collection'].includes(s.type)) say(`${id}: autofill works on product and collection settings only`);
    }
  }
  for (const p of problems) console.log(p);
  console.log(`theme-check: deploy rules on ${blocks.length} blocks: ${problems.length} errors`);
  return { errors: problems.length, others: 0 };
}

(async () => {
  const sources = new Map();
  const blocks = [];
  for (const file of fs.readdirSync(path.join(root, 'blocks')).filter((f) => f.endsWith('.liquid')).sort()) {
    const text = fs.readFileSync(path.join(root, 'blocks', file), 'utf8');
    sources.set(file, text);
    let schema;
    try {
      schema = schemaOf(text);
    } catch (e) {
      schema = null; // pass 1 reports the invalid JSON
    }
    if (schema) blocks.push([file, schema]);
  }
  const results = [await themeAppExtension(), await blockSchemas(blocks), deployRules(blocks, sources)];
  const errors = results.reduce((n, r) => n + r.errors, 0);
  const others = results.reduce((n, r) => n + r.others, 0);
  if (others && !verbose) console.log('theme-check: -v lists warnings and info');
  console.log(errors ? `theme-check: FAILED with ${errors} errors` : 'theme-check: ok');
  process.exit(errors ? 1 : 0);
})().catch((e) => {
  console.error(`theme-check: ${(e && e.stack) || e}`);
  process.exit(2);
});
