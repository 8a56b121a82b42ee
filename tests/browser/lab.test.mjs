// The cloudline kernel as a user sees it: JupyterLab in Debian's Chromium,
// driven by playwright-core. Started by tests/browser/run.sh, which provides
// the server and the environment below. Every wait is on a condition of the
// page (DOM or JupyterLab's models), bounded by WAIT; there are no sleeps.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run tests/browser/run.sh`);
  return v;
}

const LAB_URL = need('LAB_URL');
const TOKEN = need('LAB_TOKEN');
const CHROMIUM = need('CHROMIUM');
const CLOUDLINE = need('CLOUDLINE');
const HISTORY = need('HISTORY');
const WORK_DIR = need('WORK_DIR');
const ARTIFACTS = need('ARTIFACTS');
const SCREENSHOT_DOC = process.env.SCREENSHOT_DOC || '';
const KERNEL = process.env.BROWSER_KERNEL || 'Python 3 (cloudline)'; // "Python 3 (ipykernel)": the plain kernel
const WAIT = Number(process.env.BROWSER_WAIT_MS || 90_000); // bound of every wait

let context;
let page;
const outside = []; // requests that tried to leave 127.0.0.1

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const profile = mkdtempSync(path.join(WORK_DIR, 'chromium-profile-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 1000 },
  });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'ws:' || url.protocol === 'wss:') {
      if (url.hostname !== '127.0.0.1') {
        outside.push(url.href);
        return route.abort();
      }
    }
    return route.continue();
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(WAIT);
});

after(async () => {
  await context?.close();
});

// uiTest is test() that saves a screenshot of the page when fn fails.
function uiTest(name, fn) {
  test(name, async (t) => {
    try {
      await fn(t);
    } catch (err) {
      const file = path.join(ARTIFACTS, `failed-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
      await page?.screenshot({ path: file }).catch(() => {});
      throw err;
    }
  });
}

// cells is every cell of the open notebook.
const cells = () => page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell');

// runCell types code into the notebook's last (empty) cell and runs it with
// Shift+Enter; it returns the cell's index once JupyterLab has added the
// next empty cell below it.
async function runCell(code) {
  const n = await cells().count();
  const cell = cells().nth(n - 1);
  await cell.locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(code);
  await page.keyboard.press('Shift+Enter');
  await cells().nth(n).waitFor();
  return n - 1;
}

// waitDone waits until cell i shows an execution count instead of [*].
async function waitDone(i) {
  await cells().nth(i).locator('.jp-InputPrompt', { hasText: /\[\d+\]/ }).waitFor();
}

// outputText is the visible text of cell i's outputs.
async function outputText(i) {
  return cells().nth(i).locator('.jp-OutputArea').innerText();
}

// adviceIn returns, once cell i holds an output whose metadata names rule,
// its index among the cell's outputs, its metadata.cloudline and the first
// line of its text/plain.
async function adviceIn(i, rule) {
  const handle = await page.waitForFunction(({ i, rule }) => {
    const nb = window.jupyterapp?.shell.currentWidget?.content;
    const outputs = nb?.widgets[i]?.model.outputs;
    for (let k = 0; outputs && k < outputs.length; k++) {
      const out = outputs.get(k);
      const meta = out.metadata?.cloudline;
      if (meta?.rule === rule) return { index: k, meta, heading: String(out.data['text/plain'] ?? '').split('\n')[0] };
    }
    return null;
  }, { i, rule }, { timeout: WAIT });
  return handle.jsonValue();
}

// statusLine returns the visible text of cell i's live status line, the one
// output whose metadata.cloudline.status is "live", once it is there and
// its text differs from `not`. A second status line fails the wait.
async function statusLine(i, not = null) {
  const handle = await page.waitForFunction(({ i, not }) => {
    const nb = window.jupyterapp?.shell.currentWidget?.content;
    const cell = nb?.widgets[i];
    if (!cell) return null;
    const outputs = cell.model.outputs;
    const live = [];
    for (let k = 0; k < outputs.length; k++) {
      if (outputs.get(k).metadata?.cloudline?.status === 'live') live.push(k);
    }
    if (live.length > 1) return { error: `${live.length} status lines` };
    const node = cell.node.querySelectorAll('.jp-OutputArea-child')[live[0]];
    const text = node?.innerText.trim();
    if (!text || text === not) return null;
    return { text };
  }, { i, not }, { timeout: WAIT });
  const { text, error } = await handle.jsonValue();
  assert.equal(error, undefined, `cell ${i}: ${error}`);
  return text;
}

uiTest(`a long cell in "${KERNEL}" gets a live status line and long-training advice`, async () => {
  await page.goto(`${LAB_URL}/lab?token=${TOKEN}`);
  const card = page.locator('.jp-LauncherCard[data-category="Notebook"]')
    .filter({ has: page.getByText(KERNEL, { exact: true }) });
  await card.click();
  await page.waitForFunction((kernel) => {
    const ctx = window.jupyterapp?.shell.currentWidget?.sessionContext;
    return ctx?.kernelDisplayName === kernel && ctx?.session?.kernel?.status === 'idle';
  }, KERNEL, { timeout: WAIT });

  const i = await runCell([
    'import time',
    '',
    '# No progress bar: a tqdm bar would get projected-training, which',
    '# tells the story long-training would.',
    'for step in range(80):',
    '    time.sleep(0.1)  # training_time is 3s in this kernelspec',
    'print("training done")',
  ].join('\n'));

  const first = await statusLine(i);
  const updated = await statusLine(i, first);
  assert.notEqual(updated, first, 'the status line never changed');

  const { index, meta, heading } = await adviceIn(i, 'long-training');
  assert.equal(meta.checkpoint, 'compute');
  assert.equal(meta.evidence?.running, true, 'long-training was not posted while the cell ran');
  const shown = cells().nth(i).locator('.jp-OutputArea-child').nth(index);
  await shown.waitFor({ state: 'visible' });
  assert.ok(heading && (await shown.innerText()).includes(heading),
    `the advice on screen lacks its heading ${JSON.stringify(heading)}`);

  await waitDone(i);
  assert.match(await outputText(i), /training done/);
  const final = await statusLine(i);
  assert.match(final, /finished/, `the status line did not say the cell finished: ${final}`);

  await shown.scrollIntoViewIfNeeded();
  const shot = path.join(ARTIFACTS, 'lab-long-training.png');
  await page.screenshot({ path: shot });
  if (SCREENSHOT_DOC) {
    mkdirSync(path.dirname(SCREENSHOT_DOC), { recursive: true });
    copyFileSync(shot, SCREENSHOT_DOC);
  }
});

uiTest('an ipywidgets IntSlider renders and syncs both ways', async () => {
  const i = await runCell([
    'import ipywidgets as widgets',
    'slider = widgets.IntSlider(value=3, min=0, max=10, description="epochs")',
    'slider',
  ].join('\n'));
  const widget = cells().nth(i).locator('.widget-slider');
  await widget.waitFor({ state: 'visible' });
  const readout = widget.locator('.widget-readout');
  await readout.filter({ hasText: /^3$/ }).waitFor();

  // Browser -> kernel: move the handle with the keyboard.
  await widget.locator('.noUi-handle').focus();
  await page.keyboard.press('ArrowRight');
  await readout.filter({ hasText: /^4$/ }).waitFor();
  const j = await runCell('print("value", slider.value)');
  await waitDone(j);
  assert.match(await outputText(j), /value 4/);

  // Kernel -> browser.
  const k = await runCell('slider.value = 7');
  await waitDone(k);
  await readout.filter({ hasText: /^7$/ }).waitFor();
});

uiTest('input() takes what the user types', async () => {
  const i = await runCell('answer = input("model name: ")\nprint(f"you typed {answer}")');
  const box = cells().nth(i).locator('.jp-Stdin-input');
  await box.waitFor({ state: 'visible' });
  await box.fill('resnet-tiny');
  await box.press('Enter');
  await waitDone(i);
  assert.match(await outputText(i), /you typed resnet-tiny/);
});

uiTest('cloudline report renders its charts in Chromium', async () => {
  const out = path.join(WORK_DIR, 'report.html');
  execFileSync(CLOUDLINE, ['report', '--file', HISTORY, '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  await page.goto(`file://${out}`);
  const charts = page.locator('svg.timeline');
  assert.ok(await charts.count() >= 1, 'no timeline chart');
  const box = await charts.first().boundingBox();
  assert.ok(box && box.width > 300 && box.height > 100, `the chart is not drawn: ${JSON.stringify(box)}`);
  assert.ok(await charts.first().locator('rect.bar-dur').count() >= 1, 'no duration bars');
  assert.ok(await charts.first().locator('g.mark').count() >= 1, 'no advice marked on the timeline');
  assert.equal(await page.locator('[data-checkpoint="compute"][data-reached="true"]').count(), 1,
    'the compute checkpoint is not marked reached');
  assert.ok(await page.locator('[data-rule="long-training"]').count() >= 1, 'long-training is not listed');
  await page.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
});

test('nothing was fetched from outside 127.0.0.1', () => {
  assert.deepEqual(outside, []);
});
