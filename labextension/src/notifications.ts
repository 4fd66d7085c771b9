// Toasts for jobs that finish while the page is open (events only: a re-read list never notifies).

import { Notification } from '@jupyterlab/apputils';

import { downloadUrl } from './api';
import { JobsService } from './service';
import { IJobEvent } from './types';

export function notifyJobEvents(service: JobsService, openPanel: () => void): void {
  service.jobEvent.connect((_, { name, payload }: IJobEvent) => {
    const openAction = { label: 'Open panel', callback: openPanel };
    if (name === 'job:completed') {
      const url = payload.outputFileUrl;
      const actions = [openAction];
      if (url) {
        actions.push({ label: 'Download', callback: () => download(downloadUrl(url)) });
      }
      Notification.success(`Job #${payload.jobId} completed successfully!`, {
        autoClose: 10000,
        actions
      });
    } else if (name === 'job:failed') {
      const message = payload.errorMessage || 'unknown error';
      Notification.error(`Job #${payload.jobId} failed: ${message}`, {
        autoClose: false,
        actions: [openAction]
      });
    }
  });
}

function download(url: string): void {
  const link = document.createElement('a');
  link.href = url;
  link.download = '';
  document.body.append(link);
  link.click();
  link.remove();
}
