import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';

import { jobsIcon } from './icon';
import { normalizeFile } from './normalize';
import { notifyJobEvents } from './notifications';
import { JobsPanel } from './panel';
import { jobsService } from './service';

export const COMMANDS = {
  openPanel: 'nbjobs:open-panel',
  normalizeFile: 'nbjobs:normalize-file'
};

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'nbjobs-labextension:plugin',
  description: 'nbjobs: a Jobs panel, job notifications and "Normalize with nbjobs…" on CSV files.',
  autoStart: true,
  optional: [ICommandPalette, ILayoutRestorer, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    fileBrowser: IDefaultFileBrowser | null
  ) => {
    // Connected from page load, so that jobs finishing while the page is open are announced.
    const service = jobsService();
    service.start();

    const panel = new JobsPanel(service);
    app.shell.add(panel, 'left', { rank: 900 });
    restorer?.add(panel, panel.id);
    const openPanel = () => app.shell.activateById(panel.id);

    app.commands.addCommand(COMMANDS.openPanel, {
      label: 'Open the nbjobs panel',
      icon: jobsIcon,
      execute: openPanel
    });
    palette?.addItem({ command: COMMANDS.openPanel, category: 'nbjobs' });
    notifyJobEvents(service, openPanel);

    if (!fileBrowser) {
      return;
    }
    const selectedCsv = (): string | null => {
      const item = fileBrowser.selectedItems().next();
      const model = item.done ? null : item.value;
      return model && model.type !== 'directory' && /\.(csv|tsv)$/i.test(model.name)
        ? model.path
        : null;
    };
    app.commands.addCommand(COMMANDS.normalizeFile, {
      label: 'Normalize with nbjobs…',
      icon: jobsIcon,
      isVisible: () => selectedCsv() !== null,
      execute: async () => {
        const path = selectedCsv();
        if (path) {
          await normalizeFile(path, service, openPanel);
        }
      }
    });
    app.contextMenu.addItem({
      command: COMMANDS.normalizeFile,
      selector: '.jp-DirListing-item[data-isdir="false"]',
      rank: 3
    });
  }
};

export default plugin;
