// Runs contract scenarios with supabase-js on its default options and prints what each observed.
//
//   SUPABASE_URL=... SUPABASE_ANON_KEY=... node run.mjs <scenario>...
//
// Each scenario is ./<scenario>.mjs, whose default export takes the context below and resolves
// to a JSON object of facts. The output is one JSON line: {"<scenario>": facts or {"failed": why}}.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SCENARIO_TIMEOUT_MS = 60_000;
const WAIT_MS = 15_000;

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(resolve(here, '../../../..'), '.tools/node_modules/@supabase/supabase-js');
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const { createClient } = await import(pathToFileURL(join(packageDir, manifest.module)).href);

function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// The first settled state of a channel's subscription: SUBSCRIBED, CHANNEL_ERROR or TIMED_OUT.
function subscribed(channel) {
  return within(new Promise((resolve) => channel.subscribe((status) => resolve(status))), 'join');
}

// A promise of the first value for which `accept` returns something other than undefined, and
// the function to feed values into it (from an event callback).
function waiter(accept, what) {
  let feed;
  const promise = new Promise((resolve) => {
    feed = (value) => {
      const accepted = accept(value);
      if (accepted !== undefined) resolve(accepted);
    };
  });
  return { feed, wait: () => within(promise, what) };
}

const url = process.env.SUPABASE_URL;
const anonKey = process.env.SUPABASE_ANON_KEY;
const context = {
  url,
  anonKey,
  client: () => createClient(url, anonKey),
  uuid: () => crypto.randomUUID(),
  email: () => `${crypto.randomUUID()}@example.com`,
  password: 'correct horse battery',
  subscribed,
  waiter,
};

function withScenarioTimeout(promise, name) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} timed out`)), SCENARIO_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const results = {};
for (const name of process.argv.slice(2)) {
  try {
    const { default: scenario } = await import(pathToFileURL(join(here, `${name}.mjs`)).href);
    results[name] = await withScenarioTimeout(scenario(context), name);
  } catch (error) {
    results[name] = { failed: String(error?.stack ?? error) };
  }
}
process.stdout.write(`${JSON.stringify(results)}\n`);
// Realtime sockets and refresh timers would keep the event loop alive.
process.exit(0);
