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
import { WAIT, adviceIn, cells, footer, noteStyle, outputKinds, outputText, runCell, session, theme, waitDone } from './labpage.mjs';

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
  session.page = page;
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

uiTest(`a long tqdm cell in "${KERNEL}": live footer, one stream, the note after it as a callout`, async () => {
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
    'from tqdm import tqdm',
    '',
    'for step in tqdm(range(60), desc="training"):',
    '    time.sleep(0.1)  # 6 s; training_time is 3s and live_after 1s in this kernelspec',
    'print("training done")',
  ].join('\n'));

  // The footer appears while the cell runs and keeps changing.
  const first = await footer(i, { running: true });
  const updated = await footer(i, { not: first.text, running: true });
  assert.notEqual(updated.text, first.text, 'the footer never changed');
  assert.match(updated.text, /peak \S+ \S+ of \S+ \S+/, `no peak memory against the limit: ${updated.text}`);
  // A finding (the bar projects past training_time, or the cell runs past
  // it) shows at once, as a marker, while the cell still runs.
  const rule = await (await page.waitForFunction((i) => {
    const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
    const f = cell.node.querySelector('.cl-footer[data-state="running"]');
    return f?.querySelector('.cl-marker')?.dataset.rule ?? null;
  }, i, { timeout: WAIT })).jsonValue();
  assert.ok(['projected-training', 'long-training'].includes(rule), `unexpected finding ${rule}`);
  // While the cell runs, cloudline posts nothing into its outputs.
  const during = await outputKinds(i);
  assert.ok(during.every((k) => k === 'stream'), `cloudline output while the cell ran: ${during}`);

  await waitDone(i);
  const end = await footer(i, { running: false });
  assert.equal(end.state, 'ended');
  assert.doesNotMatch(end.text, /left/, `the summary still projects: ${end.text}`);
  assert.match(await outputText(i), /training done/);

  // The bar is one stream output (never split by cloudline), the notes come
  // after every stream.
  await adviceIn(i, rule);
  const kinds = await outputKinds(i);
  const bars = await page.evaluate((i) => {
    const outputs = window.jupyterapp.shell.currentWidget.content.widgets[i].model.outputs;
    let n = 0;
    for (let k = 0; k < outputs.length; k++) {
      const o = outputs.get(k);
      if (o.type === 'stream' && String(o.data['application/vnd.jupyter.stderr'] ?? '').includes('training:')) n++;
    }
    return n;
  }, i);
  assert.equal(bars, 1, `the tqdm bar is in ${bars} stream outputs: ${kinds}`);
  const firstNote = kinds.findIndex((k) => k.startsWith('note:'));
  assert.ok(firstNote > 0 && kinds.slice(0, firstNote).every((k) => k === 'stream') &&
    kinds.slice(firstNote).every((k) => k.startsWith('note:')), `outputs: ${kinds}`);
  assert.equal(await cells().nth(i).locator('.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]', { hasText: /training: +\d+%/ }).count(), 1,
    'the bar is split on screen');

  // The note renders as a callout: headline, folded details, the silencing command.
  const note = cells().nth(i).locator('.cl-note', { has: page.locator(`[data-rule="${rule}"]`) });
  await note.waitFor({ state: 'visible' });
  const finding = note.locator(`.cl-note-finding[data-rule="${rule}"]`);
  assert.ok((await finding.locator('.cl-note-headline').innerText()).length > 10, 'no headline');
  assert.equal(await finding.locator(':scope > details').getAttribute('open'), null, 'details are not folded');
  assert.match(await finding.locator('.cl-note-copy').getAttribute('data-command'),
    new RegExp(`^cloudline install --set rules_off=${rule}$`));
  await finding.locator(':scope > details > summary').click();
  assert.ok((await finding.locator(':scope > details > .cl-note-details').innerText()).length > 20, 'details do not open');

  // The footer and the note's summary write every figure alike (one
  // rounding of one number: the note once said "of 23.5 GiB" where the
  // footer said "of 24 GiB").
  assert.ok(!(end.rules.includes('projected-training') && end.rules.includes('long-training')), `two training findings: ${end.rules}`);
  assert.match(await note.locator('.cl-note-head').innerText(), /^cloudline · \[\d+\] /, 'the note does not name the cell [n]');
  const summary = (await note.locator('.cl-note-status').innerText()).trim();
  const peakIn = (s) => s.match(/peak (?:memory )?(\S+ \S+ of \S+ \S+)/)?.[1];
  assert.ok(peakIn(end.text) && peakIn(end.text) === peakIn(summary),
    `footer "${end.text}" and note "${summary}" disagree on the peak`);
  const readIn = (s) => s.match(/read (\S+ \S+)/)?.[1];
  assert.equal(readIn(end.text), readIn(summary), `footer "${end.text}" and note "${summary}" disagree on data read`);
  assert.ok(summary.includes(`finished in ${end.text.split(' · ')[0]}`), `footer "${end.text}" and note "${summary}" disagree on the time`);

  // Light and dark: the callout follows the theme.
  await note.scrollIntoViewIfNeeded();
  const light = await noteStyle(i);
  const shot = path.join(ARTIFACTS, 'lab-note-light.png');
  await page.screenshot({ path: shot });
  await theme('JupyterLab Dark', false);
  const dark = await noteStyle(i);
  assert.notEqual(dark.background, light.background, 'the callout ignores the dark theme');
  assert.notEqual(dark.color, light.color, 'the callout text ignores the dark theme');
  await page.screenshot({ path: path.join(ARTIFACTS, 'lab-note-dark.png') });
  await theme('JupyterLab Light', true);

  // The status bar: the kernel's memory against its limit.
  const status = page.locator('.cl-status');
  await status.filter({ hasText: /^Mem \d+(\.\d)? \S+ \/ \d+(\.\d)? \S+/ }).waitFor({ state: 'visible' });
  assert.match(await status.getAttribute('title'), /effective limit from/);
  if (SCREENSHOT_DOC) {
    mkdirSync(path.dirname(SCREENSHOT_DOC), { recursive: true });
    copyFileSync(shot, SCREENSHOT_DOC);
    copyFileSync(path.join(ARTIFACTS, 'lab-note-dark.png'), SCREENSHOT_DOC.replace(/\.png$/, '-dark.png'));
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

uiTest('Notebook 7 renders the note and the footer', async () => {
  // context.save(), not the save command: that asks to rename an untitled notebook.
  await page.evaluate(() => window.jupyterapp.shell.currentWidget.context.save());
  const nbPath = await page.evaluate(() => window.jupyterapp.shell.currentWidget.context.path);
  await page.waitForFunction(() => !window.jupyterapp.shell.currentWidget.context.model.dirty, null, { timeout: WAIT });
  await page.goto(`${LAB_URL}/notebooks/${encodeURI(nbPath)}?token=${TOKEN}`);
  const nbCells = page.locator('.jp-Notebook .jp-Cell');
  // The saved note of the first cell, as a callout.
  const note = nbCells.first().locator('.cl-note-finding').first();
  await note.waitFor({ state: 'visible' });
  assert.match(await note.locator('.cl-note-copy').getAttribute('data-command'), /rules_off=[a-z-]+$/);
  // A new 3 s cell gets its footer (the footer's minimum is 2 s).
  const last = nbCells.nth((await nbCells.count()) - 1); // fixed: Shift+Enter adds a cell below
  await last.locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText('import time\ntime.sleep(3)\nprint("nb7 done")');
  await page.keyboard.press('Shift+Enter');
  const f = last.locator('.cl-footer[data-state="ended"] .cl-footer-line');
  await f.waitFor({ state: 'visible' });
  assert.match(await f.innerText(), /^\d+s · peak /);
  assert.match(await last.locator('.jp-OutputArea').innerText(), /nb7 done/);
  await f.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(ARTIFACTS, "notebook7.png") });
});

uiTest('a plain python3 notebook beside it works, with no error in the console', async () => {
  await page.goto(`${LAB_URL}/lab?token=${TOKEN}`);
  await page.waitForFunction(() => window.jupyterapp?.commands.hasCommand('launcher:create'), null, { timeout: WAIT });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  const plain = 'Python 3 (ipykernel)';
  await page.evaluate(async () => {
    const app = window.jupyterapp;
    await app.restored;
    const w = await app.commands.execute('notebook:create-new', { kernelName: 'python3' });
    app.shell.activateById(w.id);
  });
  await page.waitForFunction((kernel) => {
    const ctx = window.jupyterapp?.shell.currentWidget?.sessionContext;
    return ctx?.kernelDisplayName === kernel && ctx?.session?.kernel?.status === 'idle';
  }, plain, { timeout: WAIT });
  const i = await runCell('import time\ntime.sleep(2.5)\nprint("plain kernel", 6 * 7)');
  await waitDone(i);
  assert.match(await outputText(i), /plain kernel 42/);
  assert.equal(await cells().nth(i).locator('.cl-footer').count(), 0, 'a footer on a plain kernel');
  assert.equal(await page.locator('.cl-status').isVisible(), false, 'cloudline memory shown for a plain kernel');
  assert.deepEqual(errors, []);
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
  assert.ok(await page.locator('[data-rule="long-training"], [data-rule="projected-training"]').count() >= 1,
    'no compute advice is listed');
  await page.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
});

test('nothing was fetched from outside 127.0.0.1', () => {
  assert.deepEqual(outside, []);
});
