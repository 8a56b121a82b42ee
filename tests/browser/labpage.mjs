// The page helpers of lab.test.mjs: they read the open notebook through
// JupyterLab's DOM and its window.jupyterapp. lab.test.mjs sets
// session.page once Chromium is up.

export const WAIT = Number(process.env.BROWSER_WAIT_MS || 90_000); // bound of every wait

export const session = { page: undefined };

// cells is every cell of the open notebook.
export const cells = () => session.page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell');

// runCell types code into the notebook's last (empty) cell and runs it with
// Shift+Enter; it returns the cell's index once JupyterLab has added the
// next empty cell below it.
export async function runCell(code) {
  const n = await cells().count();
  const cell = cells().nth(n - 1);
  await cell.locator('.cm-content').click();
  await session.page.keyboard.press('Control+A');
  await session.page.keyboard.insertText(code);
  await session.page.keyboard.press('Shift+Enter');
  await cells().nth(n).waitFor();
  return n - 1;
}

// waitDone waits until cell i shows an execution count instead of [*].
export async function waitDone(i) {
  await cells().nth(i).locator('.jp-InputPrompt', { hasText: /\[\d+\]/ }).waitFor();
}

// outputText is the visible text of cell i's outputs.
export async function outputText(i) {
  return cells().nth(i).locator('.jp-OutputArea').innerText();
}

// adviceIn returns, once cell i holds an output whose metadata names rule,
// its index among the cell's outputs, its metadata.cloudline and the first
// line of its text/plain.
export async function adviceIn(i, rule) {
  const handle = await session.page.waitForFunction(({ i, rule }) => {
    const nb = window.jupyterapp?.shell.currentWidget?.content;
    const outputs = nb?.widgets[i]?.model.outputs;
    for (let k = 0; outputs && k < outputs.length; k++) {
      const out = outputs.get(k);
      const meta = out.metadata?.cloudline;
      if (meta?.rule === rule || (meta?.rules ?? []).includes(rule)) return { index: k, meta, heading: String(out.data['text/plain'] ?? '').split('\n')[0] };
    }
    return null;
  }, { i, rule }, { timeout: WAIT });
  return handle.jsonValue();
}

// footer returns the text of cell i's cloudline footer once it is there,
// differs from `not` and (when running is set) the cell still runs.
export async function footer(i, { not = null, running = null } = {}) {
  const handle = await session.page.waitForFunction(({ i, not, running }) => {
    const cell = window.jupyterapp?.shell.currentWidget?.content?.widgets[i];
    const f = cell?.node.querySelector('.cl-footer');
    const text = f?.querySelector('.cl-footer-line')?.textContent?.trim();
    if (!text || text === not) return null;
    if (running !== null && (f.dataset.state === 'running') !== running) return null;
    return { text, state: f.dataset.state, rules: [...f.querySelectorAll('.cl-marker')].map((m) => m.dataset.rule) };
  }, { i, not, running }, { timeout: WAIT });
  return handle.jsonValue();
}

// outputKinds lists cell i's outputs as "stream" or the rule of a cloudline
// note ("note:long-training"), or their output_type.
export async function outputKinds(i) {
  return session.page.evaluate((i) => {
    const outputs = window.jupyterapp.shell.currentWidget.content.widgets[i].model.outputs;
    const kinds = [];
    for (let k = 0; k < outputs.length; k++) {
      const o = outputs.get(k);
      const meta = o.metadata?.cloudline;
      kinds.push(meta ? `note:${meta.rule ?? (meta.rules ?? []).join('+')}` : o.type);
    }
    return kinds;
  }, i);
}

// theme switches JupyterLab's theme and waits until it is applied.
export async function theme(name, light) {
  await session.page.evaluate((name) => window.jupyterapp.commands.execute('apputils:change-theme', { theme: name }), name);
  await session.page.waitForFunction((light) => document.body.dataset.jpThemeLight === String(light), light, { timeout: WAIT });
}

// noteStyle is the callout's background and text colour in cell i.
export async function noteStyle(i) {
  return cells().nth(i).locator('.cl-note').first().evaluate((el) => {
    const cs = getComputedStyle(el);
    return { background: cs.backgroundColor, color: cs.color, border: cs.borderLeftColor };
  });
}
