// The renderer of cloudline's note (application/vnd.cloudline.note+json):
// a callout with a headline per finding, its details folded, the service
// with a link to its docs, and a button copying the line that silences
// the rule. Frontends without it show the bundle's text/markdown.

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { markerClass } from './footer';
import { INote, INoteFinding, NOTE_MIME } from './protocol';

export class NoteRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private readonly options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('cl-note');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const note = model.data[NOTE_MIME] as unknown as INote;
    this.node.textContent = '';
    const head = document.createElement('div');
    head.className = 'cl-note-head';
    head.textContent = 'cloudline';
    // The cell as the markdown form names it: "[12] `model.fit(X, y)`".
    const count = note.cell?.execution_count;
    if (count || note.cell?.line) {
      head.append(' · ');
    }
    if (count) {
      head.append(`[${count}] `);
    }
    if (note.cell?.line) {
      const line = document.createElement('code');
      line.textContent = note.cell.line;
      head.append(line);
    }
    this.node.appendChild(head);
    for (const f of note.findings ?? []) {
      this.node.appendChild(await this.finding(f));
    }
    if (note.status?.text) {
      const st = document.createElement('div');
      st.className = 'cl-note-status';
      st.textContent = note.status.text;
      this.node.appendChild(st);
    }
  }

  private async finding(f: INoteFinding): Promise<HTMLElement> {
    const el = document.createElement('div');
    el.className = `cl-note-finding ${markerClass(f.rule)}`;
    el.dataset.rule = f.rule;
    const h = document.createElement('div');
    h.className = 'cl-note-headline';
    h.textContent = f.headline;
    el.appendChild(h);
    const row = document.createElement('div');
    row.className = 'cl-note-row';
    if (f.service) {
      const svc = document.createElement(f.docs_url ? 'a' : 'span');
      svc.className = 'cl-note-service';
      svc.textContent = f.service;
      if (svc instanceof HTMLAnchorElement && f.docs_url && /^https:\/\//.test(f.docs_url)) {
        svc.href = f.docs_url;
        svc.target = '_blank';
        svc.rel = 'noopener noreferrer';
      }
      row.appendChild(svc);
    }
    if (f.silence) {
      row.appendChild(copyButton(`cloudline install --set ${f.silence}`));
    }
    el.appendChild(row);
    if (f.details) {
      const d = document.createElement('details');
      const sum = document.createElement('summary');
      sum.textContent = 'Details';
      const body = document.createElement('div');
      body.className = 'cl-note-details';
      body.innerHTML = await this.markdown(f.details);
      d.append(sum, body);
      el.appendChild(d);
    }
    return el;
  }

  /** markdown renders details with JupyterLab's parser, sanitized; plain text without one. */
  private async markdown(src: string): Promise<string> {
    const parser = this.options.markdownParser;
    if (!parser) {
      const pre = document.createElement('pre');
      pre.textContent = src;
      return pre.outerHTML;
    }
    return this.options.sanitizer.sanitize(await parser.render(src));
  }
}

function copyButton(line: string): HTMLElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'cl-note-copy';
  b.textContent = 'Copy silencing command';
  b.title = line;
  b.dataset.command = line;
  b.addEventListener('click', () => {
    void copy(line).then(ok => {
      b.textContent = ok ? 'Copied' : line;
    });
  });
  return b;
}

async function copy(s: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(s);
    return true;
  } catch {
    const ta = document.createElement('textarea');
    ta.value = s;
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok;
  }
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [NOTE_MIME],
  defaultRank: 40, // before text/markdown (60) and text/html (50)
  createRenderer: options => new NoteRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: '@cloudline/labextension:note',
  description: "Renders cloudline's note as a callout.",
  rendererFactory,
  rank: 40,
  dataType: 'json'
};

export default extension;
