// The status bar item: the current notebook's kernel memory against its
// effective limit, GPU memory when there is one.

import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import * as fmt from './format';
import { IKernelMsg } from './protocol';

const SOURCES: { [source: string]: string } = {
  cgroup: "the container's cgroup memory.max",
  ram: "the machine's RAM (no lower limit)",
  MEM_LIMIT: "JupyterHub's MEM_LIMIT",
  KERNEL_MEMORY: "Enterprise Gateway's KERNEL_MEMORY",
  KERNEL_MEMORY_LIMIT: "Enterprise Gateway's KERNEL_MEMORY_LIMIT"
};

// The status bar shows or hides the item itself, from isActive and
// activeStateChanged (registered in index.ts).
export class MemoryItem extends Widget {
  private _active = false;
  private _activeChanged = new Signal<this, void>(this);

  get active(): boolean {
    return this._active;
  }

  get activeChanged(): ISignal<this, void> {
    return this._activeChanged;
  }

  private setActive(on: boolean): void {
    if (on !== this._active) {
      this._active = on;
      this._activeChanged.emit();
    }
  }

  constructor() {
    super();
    this.addClass('cl-status');
    this.node.title = 'cloudline: kernel memory';
  }

  /** update shows k, or hides the item (null: no cloudline kernel). */
  showReading(k: IKernelMsg | null, enabled: boolean): void {
    if (!k || !enabled) {
      this.setActive(false);
      return;
    }
    const lvl = fmt.level(k.rss_bytes, k.mem_limit_bytes, k.memory_fraction);
    let s = `Mem ${fmt.bytes(k.rss_bytes)} / ${fmt.bytes(k.mem_limit_bytes)}`;
    const tip = [
      `Kernel memory (the kernel's whole process tree): ${fmt.bytes(k.rss_bytes)}`,
      `of ${fmt.bytes(k.mem_limit_bytes)}, the effective limit from ${SOURCES[k.limit_source] ?? k.limit_source}.`,
      `cloudline warns at ${Math.round(k.memory_fraction * 100)} % (memory_fraction).`
    ];
    if (k.gpu && k.gpu.mem_total_bytes > 0) {
      s += ` · GPU ${fmt.bytes(k.gpu.mem_used_bytes)} / ${fmt.bytes(k.gpu.mem_total_bytes)}`;
      tip.push(`GPU memory over ${k.gpu.devices} device(s), ${Math.round(k.gpu.util_percent)} % busy.`);
    }
    this.node.textContent = s;
    this.node.title = tip.join('\n');
    this.node.dataset.level = lvl;
    this.setActive(true);
  }
}
