// Loads each app's API reference page (`<base>/docs`) in headless Chromium and checks that
// it renders the app's whole OpenAPI document with no failed request and no console error.
//
//   node docs.mjs <api base URL>...      e.g. http://127.0.0.1:8080/simflow/api
//
// Env: CHROMIUM (default /usr/bin/chromium); DOCS_SCREENSHOT, a PNG path for a screenshot of
// the first app's page. Run by crates/plinth/tests/docs_browser.rs; exits 1 on any problem.
import { chromium } from 'playwright-core';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const bases = process.argv.slice(2).map((b) => b.replace(/\/$/, ''));
if (!bases.length) {
  console.error('usage: node docs.mjs <api base URL>...');
  process.exit(2);
}

/** What the page should show for a document: its operations and their responses. */
function expected(doc) {
  let operations = 0;
  let responses = 0;
  for (const item of Object.values(doc.paths || {})) {
    for (const m of METHODS) {
      if (item[m] && typeof item[m] === 'object') {
        operations++;
        responses += Object.keys(item[m].responses || {}).length;
      }
    }
  }
  return { operations, responses };
}

/** Every problem seen on `base`'s page, and what it rendered. */
async function check(context, base, screenshot) {
  const problems = [];
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  let counts = {};
  try {
    counts = await inspect(page, base, screenshot, problems);
  } catch (e) {
    problems.push(`check stopped: ${String(e.message || e).split('\n')[0]}`);
  }
  await page.close();
  return { base, ...counts, problems };
}

async function inspect(page, base, screenshot, problems) {
  const res = await page.goto(`${base}/docs`, { waitUntil: 'load', timeout: 30_000 });
  if (!res || res.status() !== 200) problems.push(`page answered ${res && res.status()}`);
  const doc = await (await fetch(`${base}/openapi.json`)).json();
  const want = expected(doc);
  const ops = page.locator('details.op');
  await ops.first().waitFor();
  const seen = {
    operations: await ops.count(),
    sidebar: await page.locator('.toc ul a').count(),
    title: await page.locator('main h1').textContent(),
  };
  if (want.operations === 0) problems.push('the document has no operations');
  if (seen.operations !== want.operations) problems.push(`${seen.operations} operations rendered, ${want.operations} in the document`);
  if (seen.sidebar !== want.operations) problems.push(`${seen.sidebar} sidebar links, ${want.operations} operations`);
  if (!seen.title.includes(doc.info.title)) problems.push(`title ${seen.title}`);

  // Everything opened: every response of every operation is there, every $ref resolved.
  await page.getByRole('button', { name: 'Expand all' }).click();
  const open = await page.locator('details.op[open]').count();
  if (open !== want.operations) problems.push(`${open} operations open after "Expand all"`);
  const responses = await page.locator('details.op .resp').count();
  if (responses !== want.responses) problems.push(`${responses} responses rendered, ${want.responses} in the document`);
  const unresolved = await page.locator('.flag.warn').count();
  if (unresolved) problems.push(`${unresolved} unresolved $ref`);

  // The filter: nothing for nonsense, the first operation for its own path.
  const filter = page.getByRole('searchbox', { name: 'Filter operations' });
  await filter.fill('no-such-operation-anywhere');
  if (!(await page.locator('.empty').isVisible())) problems.push('no "no match" note');
  if (await page.locator('details.op:visible').count()) problems.push('operations shown for a filter that matches none');
  const first = Object.keys(doc.paths)[0];
  await filter.fill(first);
  const matched = await page.locator('details.op:visible').count();
  if (matched < 1 || matched > want.operations) problems.push(`${matched} operations shown for ${first}`);
  await filter.fill('');

  if (screenshot) {
    await page.getByRole('button', { name: 'Collapse all' }).click();
    // A few operations open at the top: a list, and what a create takes and answers.
    await page.evaluate(() => {
      const views = [...document.querySelectorAll('details.op')];
      const create = views.find((d) => d.querySelector('.method.post') && d.querySelector('.schema'));
      for (const d of [views[0], create]) if (d) d.open = true;
      window.scrollTo(0, 0);
    });
    await page.screenshot({ path: screenshot });
  }
  return { ...want, rendered: seen.operations };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  chromiumSandbox: false,
  timeout: 60_000,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  for (const [i, base] of bases.entries()) {
    const result = await check(context, base, i === 0 ? process.env.DOCS_SCREENSHOT : undefined);
    failed ||= result.problems.length > 0;
    console.log(JSON.stringify(result));
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
