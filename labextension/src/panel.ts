// The Jobs side panel: the last 50 jobs, each row updated in place as events arrive.

import { Notification } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { downloadUrl } from './api';
import { formatCount, formatDuration, formatTime, h } from './dom';
import { jobsIcon } from './icon';
import { JobsService } from './service';
import { ACTIVE_STATUSES, IColumnSummary, IJob } from './types';

export const PANEL_ID = 'nbjobs-panel';

export class JobsPanel extends Widget {
  private _badge = h('span', { class: 'jp-nbjobs-badge', 'data-state': 'connecting' }, 'Offline');
  private _detail = h('span', { class: 'jp-nbjobs-state-detail' });
  private _reconnect = h(
    'button',
    { class: 'jp-nbjobs-reconnect jp-mod-styled', type: 'button' },
    'Reconnect'
  );
  private _message = h('div', { class: 'jp-nbjobs-message' });
  private _list = h('ul', { class: 'jp-nbjobs-list' });
  private _rows = new Map<number, JobRow>();

  constructor(private readonly _service: JobsService) {
    super();
    this.id = PANEL_ID;
    this.addClass('jp-nbjobs-panel');
    this.title.icon = jobsIcon;
    this.title.caption = 'nbjobs';
    this._reconnect.addEventListener('click', () => this._service.reconnect());
    this.node.append(
      h(
        'header',
        { class: 'jp-nbjobs-header' },
        h('h2', { class: 'jp-nbjobs-title' }, 'nbjobs'),
        this._badge,
        this._reconnect
      ),
      this._detail,
      this._message,
      this._list
    );
    this._service.changed.connect(this._render, this);
    this._render();
  }

  dispose(): void {
    this._service.changed.disconnect(this._render, this);
    super.dispose();
  }

  private _render(): void {
    const service = this._service;
    const live = service.state === 'live';
    this._badge.dataset.state = service.state;
    this._badge.textContent = live ? 'Live' : 'Offline';
    this._badge.title = live ? 'Receiving job events' : service.detail;
    this._detail.textContent = live ? '' : service.detail;
    this._reconnect.hidden = live;

    const jobs = service.jobs;
    this._message.textContent =
      service.listError ||
      (jobs.length
        ? ''
        : 'No jobs yet. Run nbjobs.normalize() in a notebook or right-click a CSV file.');
    const keep = new Set(jobs.map(job => job.jobId));
    for (const [jobId, row] of this._rows) {
      if (!keep.has(jobId)) {
        row.node.remove();
        this._rows.delete(jobId);
      }
    }
    // Rows are updated, not rebuilt: an open summary or a focused button survives an event.
    jobs.forEach((job, index) => {
      let row = this._rows.get(job.jobId);
      if (!row) {
        row = new JobRow(job.jobId, this._service);
        this._rows.set(job.jobId, row);
      }
      row.update(job);
      if (this._list.children[index] !== row.node) {
        this._list.insertBefore(row.node, this._list.children[index] ?? null);
      }
    });
  }
}

class JobRow {
  readonly node: HTMLLIElement;
  private _name = h('span', { class: 'jp-nbjobs-job-name' });
  private _status = h('span', { class: 'jp-nbjobs-job-status' });
  private _bar = h('div', {
    class: 'jp-nbjobs-progress-bar',
    role: 'progressbar',
    'aria-valuemin': '0',
    'aria-valuemax': '100'
  });
  private _percent = h('span', { class: 'jp-nbjobs-percent' });
  private _counts = h('div', { class: 'jp-nbjobs-counts' });
  private _quality = h('div', { class: 'jp-nbjobs-quality' });
  private _times = h('div', { class: 'jp-nbjobs-times' });
  private _error = h('div', { class: 'jp-nbjobs-error' });
  private _actions = h('div', { class: 'jp-nbjobs-actions' });
  private _summary = h('div', { class: 'jp-nbjobs-summary-slot' });
  private _summaryKey = '';
  private _actionsKey = '';

  constructor(
    private readonly _jobId: number,
    private readonly _service: JobsService
  ) {
    this.node = h(
      'li',
      { class: 'jp-nbjobs-job', 'data-job-id': String(_jobId) },
      h(
        'div',
        { class: 'jp-nbjobs-job-head' },
        h('span', { class: 'jp-nbjobs-job-id' }, `#${_jobId}`),
        this._name,
        this._status
      ),
      h(
        'div',
        { class: 'jp-nbjobs-progress-row' },
        h('div', { class: 'jp-nbjobs-progress' }, this._bar),
        this._percent
      ),
      this._counts,
      this._quality,
      this._times,
      this._error,
      this._actions,
      this._summary
    );
  }

  update(job: IJob): void {
    const progress = Math.max(0, Math.min(100, job.progress ?? 0));
    this.node.dataset.status = job.status;
    this._name.textContent = job.inputName ?? '';
    this._name.title = job.inputName ?? '';
    this._status.textContent = job.status;
    this._bar.style.width = `${progress}%`;
    this._bar.setAttribute('aria-valuenow', String(progress));
    this._percent.textContent = `${progress}%`;
    const total =
      job.totalRows === null || job.totalRows === undefined ? '?' : formatCount(job.totalRows);
    this._counts.textContent =
      `${formatCount(job.processedRows)} / ${total} rows · ` +
      `${formatCount(job.validRows)} valid · ${formatCount(job.invalidRows)} invalid` +
      speedText(job);
    this._quality.textContent = qualityText(job);
    this._times.textContent = timesText(job);
    this._error.textContent =
      job.status === 'failed' || job.status === 'interrupted' ? (job.errorMessage ?? '') : '';
    this._updateActions(job);
    this._updateSummary(job);
  }

  private _updateActions(job: IJob): void {
    const active = ACTIVE_STATUSES.includes(job.status);
    const key = [active, job.outputFileUrl, job.invalidRowsUrl].join('|');
    if (key === this._actionsKey) {
      return;
    }
    this._actionsKey = key;
    this._actions.replaceChildren();
    if (active) {
      const cancel = h(
        'button',
        { class: 'jp-nbjobs-cancel jp-mod-styled', type: 'button' },
        'Cancel'
      );
      cancel.addEventListener('click', async () => {
        cancel.disabled = true;
        try {
          await this._service.cancel(this._jobId);
        } catch (error) {
          cancel.disabled = false;
          Notification.error(
            `Job #${this._jobId} could not be cancelled: ${(error as Error).message}`
          );
        }
      });
      this._actions.append(cancel);
    }
    if (job.outputFileUrl) {
      this._actions.append(
        h(
          'a',
          {
            class: 'jp-nbjobs-download-output',
            href: downloadUrl(job.outputFileUrl),
            download: ''
          },
          'Output CSV'
        )
      );
    }
    if (job.invalidRowsUrl) {
      this._actions.append(
        h(
          'a',
          {
            class: 'jp-nbjobs-download-invalid',
            href: downloadUrl(job.invalidRowsUrl),
            download: ''
          },
          'Invalid rows'
        )
      );
    }
  }

  private _updateSummary(job: IJob): void {
    const summary = job.status === 'completed' && Array.isArray(job.summary) ? job.summary : null;
    const key = summary ? JSON.stringify(summary) : '';
    if (key === this._summaryKey) {
      return;
    }
    this._summaryKey = key;
    this._summary.replaceChildren(...(summary && summary.length ? [summaryTable(summary)] : []));
  }
}

function timesText(job: IJob): string {
  if (!job.startedAt) {
    return job.createdAt ? `queued ${formatTime(job.createdAt)}` : '';
  }
  const started = Date.parse(job.startedAt);
  // A running job's duration is brought up to date by its own events, never by a timer.
  const end = job.finishedAt ? Date.parse(job.finishedAt) : Date.now();
  return `started ${formatTime(job.startedAt)} · ${formatDuration(Math.max(0, (end - started) / 1000))}`;
}

function summaryTable(summary: IColumnSummary[]): HTMLElement {
  const headings = ['column', 'type', 'rows', 'empty', 'invalid', 'changed', 'unchanged'];
  const rows = summary.map(column => {
    const reasons = (column.topReasons ?? [])
      .map(reason => `${reason.message || reason.code} (${formatCount(reason.count)})`)
      .join('; ');
    return h(
      'tr',
      { 'data-column': column.column },
      h('td', { title: reasons }, column.column),
      h('td', {}, column.type),
      ...[column.rows, column.null, column.invalid, column.changed, column.unchanged].map(value =>
        h('td', { class: 'jp-nbjobs-number' }, formatCount(value))
      )
    );
  });
  const reasons = summary.flatMap(column => [
    ...(column.topReasons ?? []).map(reason =>
      h(
        'li',
        { class: 'jp-nbjobs-reason' },
        `${column.column}: ${reason.message || reason.code} — ${formatCount(reason.count)}`
      )
    ),
    ...(column.topRepairs ?? []).map(repair =>
      h(
        'li',
        { class: 'jp-nbjobs-repair' },
        `${column.column}: repaired, ${repair.message || repair.code} — ${formatCount(repair.count)}`
      )
    )
  ]);
  return h(
    'details',
    { class: 'jp-nbjobs-summary' },
    h('summary', {}, 'Column summary'),
    h(
      'div',
      { class: 'jp-nbjobs-summary-table' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ...headings.map(text => h('th', {}, text)))),
        h('tbody', {}, ...rows)
      )
    ),
    reasons.length ? h('ul', { class: 'jp-nbjobs-reasons' }, ...reasons) : null
  );
}

/** `42s`, `3m 05s`, `1h 02m` (as the kernel's widget writes it). */
export function durationText(seconds: number): string {
  if (seconds < 60) {
    return `${seconds}s`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  }
  return `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/** ` · 12,345 rows/s · 42s left` while the job runs and its events carry the speed. */
function speedText(job: IJob): string {
  if (!ACTIVE_STATUSES.includes(job.status) || !job.rowsPerSecond) {
    return '';
  }
  const left = job.eta === null || job.eta === undefined ? '' : ` · ${durationText(job.eta)} left`;
  return ` · ${formatCount(job.rowsPerSecond)} rows/s${left}`;
}

/** `Phone 91.0% valid · Email 99.5% valid` from a running job's latest per-column counts. */
export function qualityText(job: IJob): string {
  if (!ACTIVE_STATUSES.includes(job.status)) {
    return '';
  }
  return (job.columnCounts ?? [])
    .filter(column => column.valid + column.invalid > 0)
    .map(
      column =>
        `${column.column} ${((100 * column.valid) / (column.valid + column.invalid)).toFixed(1)}% valid`
    )
    .join(' · ');
}
