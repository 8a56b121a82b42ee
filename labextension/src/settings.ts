// The extension's settings (schema/plugin.json), with their defaults.

export interface ISettings {
  footer: boolean;
  footerMinSeconds: number;
  statusBar: boolean;
  notify: boolean;
  notifyMinSeconds: number;
}

export const DEFAULTS: ISettings = {
  footer: true,
  footerMinSeconds: 2,
  statusBar: true,
  notify: false,
  notifyMinSeconds: 60
};

/** read merges what the registry holds over the defaults. */
export function read(composite: { [key: string]: unknown }): ISettings {
  const s = { ...DEFAULTS };
  if (typeof composite.footer === 'boolean') {
    s.footer = composite.footer;
  }
  if (typeof composite.footerMinSeconds === 'number' && composite.footerMinSeconds >= 0) {
    s.footerMinSeconds = composite.footerMinSeconds;
  }
  if (typeof composite.statusBar === 'boolean') {
    s.statusBar = composite.statusBar;
  }
  if (typeof composite.notify === 'boolean') {
    s.notify = composite.notify;
  }
  if (typeof composite.notifyMinSeconds === 'number' && composite.notifyMinSeconds >= 0) {
    s.notifyMinSeconds = composite.notifyMinSeconds;
  }
  return s;
}
