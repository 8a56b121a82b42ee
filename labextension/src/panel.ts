// One notebook's end of the cloudline comm: opens it whenever the
// notebook's kernel is a cloudline one (again after a restart), routes
// the kernel's messages to the cells' footers and the status bar.

import { ISessionContext } from '@jupyterlab/apputils';
import { Cell } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import * as fmt from './format';
import { Footer, text } from './footer';
import { COMM_TARGET, ICellMsg, IHelloMsg, IKernelMsg, parse, PROTOCOL_VERSION } from './protocol';
import { ISettings } from './settings';

interface ILive {
  msg: ICellMsg;
  at: number; // local time the message came, ms
}

export class PanelView {
  private comm: Kernel.IComm | null = null;
  private commKernel: Kernel.IKernelConnection | null = null;
  private footers = new Map<string, Footer>(); // cell id -> footer
  private live = new Map<string, ILive>(); // cell id -> last message of a running cell
  private past = new Map<string, number>(); // cell id -> last run, s
  private timer = 0;
  private _kernel: IKernelMsg | null = null;
  private _kernelChanged = new Signal<this, IKernelMsg | null>(this);
  private disposed = false;

  constructor(
    readonly panel: NotebookPanel,
    private settings: () => ISettings
  ) {
    const ctx = panel.sessionContext;
    ctx.kernelChanged.connect(this.onKernel, this);
    ctx.statusChanged.connect(this.onStatus, this);
    void ctx.ready.then(() => this.ensureComm());
    panel.disposed.connect(() => this.dispose());
  }

  /** The kernel's latest memory reading (null: not a cloudline kernel). */
  get kernel(): IKernelMsg | null {
    return this._kernel;
  }

  get kernelChanged(): ISignal<this, IKernelMsg | null> {
    return this._kernelChanged;
  }

  get connected(): boolean {
    return this.comm !== null;
  }

  private onKernel(): void {
    this.closeComm();
    void this.ensureComm();
  }

  private onStatus(_: ISessionContext, status: Kernel.Status): void {
    if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
      this.closeComm(); // JupyterLab disposes the comms of a restarted kernel
      return;
    }
    if (status === 'idle' || status === 'busy') {
      void this.ensureComm();
    }
  }

  private closeComm(): void {
    this.comm = null;
    this.commKernel = null;
    this.live.clear();
    this.setKernel(null);
  }

  private setKernel(k: IKernelMsg | null): void {
    this._kernel = k;
    this._kernelChanged.emit(k);
  }

  /** ensureComm opens the comm when the kernel is cloudline's and has none. */
  private async ensureComm(): Promise<void> {
    const kernel = this.panel.sessionContext.session?.kernel;
    if (!kernel || this.disposed || (this.comm && this.commKernel === kernel)) {
      return;
    }
    if (!(await isCloudline(kernel)) || this.commKernel === kernel) {
      return;
    }
    this.commKernel = kernel;
    try {
      const comm = kernel.createComm(COMM_TARGET);
      comm.onMsg = msg => this.onMsg(comm, msg);
      comm.onClose = () => {
        // A kernel that does not know the target (the plain one) closes it.
        if (this.comm === comm) {
          this.comm = null;
          this.setKernel(null);
        }
      };
      this.comm = comm;
      comm.open({ v: PROTOCOL_VERSION });
    } catch (err) {
      this.comm = null; // the kernel went away meanwhile: the next status change retries
    }
  }

  private onMsg(comm: Kernel.IComm, msg: KernelMessage.ICommMsgMsg): void {
    if (comm !== this.comm) {
      return;
    }
    const m = parse(msg.content.data);
    if (!m) {
      return; // a newer kernel's message: ignored
    }
    switch (m.type) {
      case 'hello':
        this.onHello(m);
        break;
      case 'kernel':
        this.setKernel(m);
        break;
      case 'cell':
      case 'cell_end':
        this.onCell(m);
        break;
    }
  }

  private onHello(m: IHelloMsg): void {
    for (const p of m.history) {
      if (p.cell_id) {
        this.past.set(p.cell_id, p.wall_s);
      }
    }
    const s = this.settings();
    if (!s.footer) {
      return;
    }
    for (const cell of this.panel.content.widgets) {
      const wall = this.past.get(cell.model.id);
      if (wall !== undefined && wall >= s.footerMinSeconds && !this.footers.has(cell.model.id)) {
        this.footer(cell).setText(`last run: ${fmt.duration(wall)}`, 'past');
      }
    }
  }

  private onCell(m: ICellMsg): void {
    const id = m.cell_id;
    if (!id) {
      return;
    }
    if (m.type === 'cell') {
      this.live.set(id, { msg: m, at: Date.now() });
      this.render(id);
      this.tick();
      return;
    }
    this.live.delete(id);
    this.past.set(id, m.elapsed_s);
    this.renderEnd(id, m);
    this.maybeNotify(m);
  }

  /** render redraws a running cell's footer from its last message. */
  private render(id: string): void {
    const l = this.live.get(id);
    const s = this.settings();
    if (!l || !s.footer) {
      return;
    }
    const elapsed = l.msg.elapsed_s + (Date.now() - l.at) / 1000;
    if (elapsed < s.footerMinSeconds && l.msg.findings.length === 0) {
      return;
    }
    const cell = this.cell(id);
    if (!cell) {
      return;
    }
    const f = this.footer(cell);
    f.setText(text(l.msg, elapsed), 'running');
    f.setFindings(l.msg.findings);
  }

  private renderEnd(id: string, m: ICellMsg): void {
    const s = this.settings();
    const cell = this.cell(id);
    if (!cell || !s.footer) {
      return;
    }
    if (m.elapsed_s < s.footerMinSeconds && m.findings.length === 0) {
      this.footers.get(id)?.dispose(); // a quick re-run: no footer
      this.footers.delete(id);
      return;
    }
    const f = this.footer(cell, true);
    f.setText(text(m, m.elapsed_s), 'ended');
    f.setFindings(m.findings);
  }

  /** footer returns the cell's footer, made anew when fresh is set or it was detached. */
  private footer(cell: Cell, fresh = false): Footer {
    let f = this.footers.get(cell.model.id);
    if (f && (!f.attached || (fresh && f.node.dataset.state === 'past'))) {
      f.dispose();
      f = undefined;
    }
    if (!f) {
      f = new Footer(cell.node);
      this.footers.set(cell.model.id, f);
    }
    return f;
  }

  private cell(id: string): Cell | undefined {
    return this.panel.content.widgets.find(c => c.model.id === id);
  }

  /** tick keeps running cells' clocks going, once a second, while any runs. */
  private tick(): void {
    if (this.timer || this.live.size === 0) {
      return;
    }
    this.timer = window.setInterval(() => {
      if (this.live.size === 0 || this.disposed) {
        window.clearInterval(this.timer);
        this.timer = 0;
        return;
      }
      for (const id of this.live.keys()) {
        this.render(id);
      }
    }, 1000);
  }

  private maybeNotify(m: ICellMsg): void {
    const s = this.settings();
    if (!s.notify || !document.hidden || m.elapsed_s < s.notifyMinSeconds || typeof Notification === 'undefined') {
      return;
    }
    const show = (): void => {
      const n = new Notification(`cloudline: cell finished (${fmt.duration(m.elapsed_s)})`, {
        body: `${this.panel.title.label}: ${text(m, m.elapsed_s)}`
      });
      n.onclick = () => window.focus();
    };
    if (Notification.permission === 'granted') {
      show();
    } else if (Notification.permission !== 'denied') {
      void Notification.requestPermission().then(p => (p === 'granted' ? show() : undefined));
    }
  }

  dispose(): void {
    this.disposed = true;
    window.clearInterval(this.timer);
    for (const f of this.footers.values()) {
      f.dispose();
    }
    this.footers.clear();
    Signal.clearData(this);
  }
}

/** isCloudline: the kernelspec is one cloudline installed (or unknown). */
async function isCloudline(kernel: Kernel.IKernelConnection): Promise<boolean> {
  try {
    const spec = await kernel.spec;
    if (!spec) {
      return true;
    }
    const md = (spec.metadata ?? {}) as { [key: string]: unknown };
    if ('cloudline_wraps' in md || 'cloudline' in md) {
      return true;
    }
    const argv0 = spec.argv?.[0] ?? '';
    return /(^|\/)cloudline[^/]*$/.test(argv0) && spec.argv?.[1] === 'kernel';
  } catch {
    return false;
  }
}
