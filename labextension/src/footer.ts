// The grey line under a cell: its run's figures, live while it runs.

import * as fmt from './format';
import { ICellMsg, IFinding } from './protocol';

/** Rules whose marker is red (the work is at risk), blue (stability), purple (privacy). */
const RED = new Set(['memory-pressure', 'kernel-died', 'disk-space']);
const BLUE = new Set(['stable-model', 'local-serving']);
const PURPLE = new Set(['sensitive-data']);

export function markerClass(rule: string): string {
  if (RED.has(rule)) {
    return 'cl-marker-red';
  }
  if (BLUE.has(rule)) {
    return 'cl-marker-blue';
  }
  if (PURPLE.has(rule)) {
    return 'cl-marker-purple';
  }
  return 'cl-marker-amber';
}

const END_WORDS: { [status: string]: string } = {
  error: 'failed after',
  aborted: 'aborted after',
  interrupted: 'interrupted after',
  'kernel-died': 'kernel died after'
};

/** text is the footer's line for a cell message, at local time now. */
export function text(m: ICellMsg, elapsed: number, now: Date = new Date()): string {
  const parts: string[] = [];
  const word = m.type === 'cell_end' ? END_WORDS[m.status] : undefined;
  parts.push(word ? `${word} ${fmt.duration(elapsed)}` : fmt.duration(elapsed));
  if (m.peak_rss_bytes > 0) {
    parts.push(
      m.mem_limit_bytes > 0
        ? `peak ${fmt.bytes(m.peak_rss_bytes)} of ${fmt.bytes(m.mem_limit_bytes)}`
        : `peak ${fmt.bytes(m.peak_rss_bytes)}`
    );
  }
  if (m.read_bytes > 0) {
    parts.push(`read ${fmt.bytes(m.read_bytes)}`);
  }
  if (m.gpu && m.gpu.mem_total_bytes > 0) {
    parts.push(`GPU ${fmt.bytes(m.gpu.mem_used_bytes)} of ${fmt.bytes(m.gpu.mem_total_bytes)}`);
  }
  const p = m.progress;
  if (m.type === 'cell' && p) {
    const total = p.projected_s ?? 0;
    if (total > elapsed) {
      const left = total - elapsed;
      parts.push(`about ${fmt.duration(left)} left, done by ${fmt.clock(new Date(now.getTime() + left * 1000), now)}`);
    } else if (p.fraction > 0) {
      parts.push(`${fmt.percent(p.fraction)} done`);
    }
  }
  if (m.last_run_s && m.last_run_s > 0) {
    parts.push(`last run: ${fmt.duration(m.last_run_s)}`);
  }
  return parts.join(' · ');
}

/**
 * Footer is one cell's line. It lives in the cell's node, after its
 * outputs, and is never saved in the notebook.
 */
export class Footer {
  readonly node: HTMLElement;
  private readonly line: HTMLElement;
  private readonly markers: HTMLElement;
  private readonly list: HTMLElement;
  private rules = new Set<string>();

  constructor(private readonly host: HTMLElement) {
    this.node = document.createElement('div');
    this.node.className = 'cl-footer';
    this.line = document.createElement('span');
    this.line.className = 'cl-footer-line';
    this.markers = document.createElement('span');
    this.markers.className = 'cl-footer-markers';
    this.list = document.createElement('div');
    this.list.className = 'cl-footer-findings';
    this.list.hidden = true;
    this.node.append(this.line, this.markers, this.list);
    host.appendChild(this.node);
  }

  get attached(): boolean {
    return this.node.parentElement === this.host && this.host.isConnected;
  }

  setText(s: string, state: 'running' | 'ended' | 'past'): void {
    this.line.textContent = s;
    this.node.dataset.state = state;
  }

  setFindings(findings: IFinding[]): void {
    for (const f of findings) {
      if (this.rules.has(f.rule)) {
        continue;
      }
      this.rules.add(f.rule);
      const b = document.createElement('button');
      b.className = `cl-marker ${markerClass(f.rule)}`;
      b.type = 'button';
      b.textContent = f.rule;
      b.title = f.headline;
      b.dataset.rule = f.rule;
      b.addEventListener('click', () => this.open(f.rule));
      this.markers.appendChild(b);
      const item = document.createElement('div');
      item.className = 'cl-footer-finding';
      item.textContent = f.headline;
      this.list.appendChild(item);
    }
  }

  /** open shows the note of the rule when the cell has it, else the headlines. */
  private open(rule: string): void {
    const note = this.host.querySelector(`.cl-note [data-rule="${CSS.escape(rule)}"]`);
    if (note instanceof HTMLElement) {
      const details = note.querySelector('details');
      if (details) {
        details.open = true;
      }
      note.scrollIntoView({ block: 'nearest' });
      return;
    }
    this.list.hidden = !this.list.hidden;
  }

  dispose(): void {
    this.node.remove();
  }
}
