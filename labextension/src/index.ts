// cloudline's JupyterLab (and Notebook 7) extension: no server part;
// everything comes from the kernel over the "cloudline" comm.

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';

import { PanelView } from './panel';
import { DEFAULTS, ISettings, read } from './settings';
import { MemoryItem } from './status';

const PLUGIN_ID = '@cloudline/labextension:plugin';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: "cloudline's live view: cell footers and the kernel's memory in the status bar.",
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ISettingRegistry, IStatusBar],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    registry: ISettingRegistry | null,
    statusBar: IStatusBar | null
  ) => {
    let settings: ISettings = { ...DEFAULTS };
    const views = new Map<NotebookPanel, PanelView>();
    const item = new MemoryItem();
    // The item shows the active main-area widget's kernel: hidden for
    // anything but a notebook on a cloudline kernel.
    const refresh = (): void => {
      const current = app.shell.currentWidget;
      const view = current instanceof NotebookPanel ? views.get(current) : undefined;
      item.showReading(view?.kernel ?? null, settings.statusBar);
    };
    if (statusBar) {
      statusBar.registerStatusItem('@cloudline/labextension:memory', {
        item,
        align: 'left',
        rank: 3,
        isActive: () => item.active,
        activeStateChanged: item.activeChanged
      });
    }
    tracker.widgetAdded.connect((_, panel) => {
      const view = new PanelView(panel, () => settings);
      views.set(panel, view);
      view.kernelChanged.connect(() => {
        if (app.shell.currentWidget === panel) {
          refresh();
        }
      });
      panel.disposed.connect(() => {
        views.delete(panel);
        refresh();
      });
    });
    tracker.currentChanged.connect(refresh);
    app.shell.currentChanged?.connect(refresh);
    if (registry) {
      void registry
        .load(PLUGIN_ID)
        .then(s => {
          const apply = (): void => {
            settings = read(s.composite as { [key: string]: unknown });
            refresh();
          };
          apply();
          s.changed.connect(apply);
        })
        .catch(() => undefined); // defaults stay
    }
  }
};

export default plugin;
