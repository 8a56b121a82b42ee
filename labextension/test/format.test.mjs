// The extension's figures (lib/format.js, compiled from src/format.ts)
// against the table the kernel's Go formatter is tested with
// (human/testdata/figures.json): the footer and the note must write every
// figure alike. Run by `make test` (node --test labextension/test) after
// the extension is built.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';

const here = new URL('.', import.meta.url);
// lib/ is ES module code in a package without "type": "module" (the
// JupyterLab builder bundles it); loaded as a module from its source.
const source = readFileSync(new URL('../lib/format.js', here), 'utf8');
const fmt = await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`);
const table = JSON.parse(readFileSync(new URL('../../human/testdata/figures.json', here), 'utf8'));

test('every section of the shared table is there', () => {
  for (const key of ['bytes', 'seconds', 'percent']) {
    assert.ok(Array.isArray(table[key]) && table[key].length > 0, key);
  }
});

test('bytes as the notes write them', () => {
  for (const [n, want] of table.bytes) {
    assert.equal(fmt.bytes(n), want, `bytes(${n})`);
  }
});

test('durations as the notes write them', () => {
  for (const [s, want] of table.seconds) {
    assert.equal(fmt.duration(s), want, `duration(${s})`);
  }
});

test('percentages as the notes write them', () => {
  for (const [f, want] of table.percent) {
    assert.equal(fmt.percent(f), want, `percent(${f})`);
  }
});
