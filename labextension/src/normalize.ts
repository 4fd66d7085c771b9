// File browser → "Normalize with nbjobs…": detected column types to confirm or change, then a job.

import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import * as api from './api';
import { h } from './dom';
import { JobsService } from './service';
import { ColumnSpec, IDetection, ISuggestion } from './types';

export const SKIP = 'skip';

/** The dialog body: one type select per column, one checkbox per suggested combination. */
export class NormalizeForm extends Widget implements Dialog.IBodyWidget<ColumnSpec> {
  private _selects = new Map<string, HTMLSelectElement>();
  private _combinations = new Map<HTMLInputElement, ISuggestion>();

  constructor(detection: IDetection) {
    super();
    this.addClass('jp-nbjobs-normalize-form');
    const types = [...new Set([...detection.fields, ...detection.columns.map(c => c.type)])];
    const rows = detection.columns.map(column => {
      const select = h('select', {
        class: 'jp-nbjobs-type',
        'data-column': column.name,
        'aria-label': `Type of ${column.name}`
      });
      for (const type of [SKIP, ...types]) {
        select.append(h('option', { value: type }, type));
      }
      select.value = column.type || SKIP;
      this._selects.set(column.name, select);
      const confidence = Number.isFinite(column.confidence)
        ? `${Math.round(column.confidence * 100)}%`
        : '';
      const partOf = column.partOf ? ` · part of ${column.partOf}` : '';
      return h(
        'tr',
        { title: column.reason ?? '' },
        h('td', { class: 'jp-nbjobs-column-name' }, column.name),
        h('td', {}, select),
        h('td', { class: 'jp-nbjobs-confidence' }, confidence + partOf)
      );
    });
    this.node.append(
      h(
        'p',
        {},
        `Column types detected in ${detection.inputName}. Change a type, or choose "skip" to leave a column as it is.`
      ),
      h(
        'table',
        { class: 'jp-nbjobs-columns' },
        h(
          'thead',
          {},
          h('tr', {}, h('th', {}, 'column'), h('th', {}, 'type'), h('th', {}, 'confidence'))
        ),
        h('tbody', {}, ...rows)
      )
    );
    if (detection.suggestions.length) {
      const items = detection.suggestions.map(suggestion => {
        const box = h('input', {
          type: 'checkbox',
          class: 'jp-nbjobs-suggestion',
          'data-name': suggestion.name
        });
        this._combinations.set(box, suggestion);
        box.addEventListener('change', () => this._combine(suggestion, box.checked));
        const example = suggestion.preview?.[0];
        const preview = example
          ? ` — e.g. "${example.combined}" → "${example.normalized ?? ''}"`
          : '';
        return h(
          'li',
          {},
          h(
            'label',
            {},
            box,
            ` ${suggestion.name} (${suggestion.type}) from ${suggestion.from.join(' + ')}${preview}`
          )
        );
      });
      this.node.append(
        h('p', {}, 'Suggested combinations:'),
        h('ul', { class: 'jp-nbjobs-suggestions' }, ...items)
      );
    }
  }

  /** Taking a combination skips its parts (their values go into it); leaving it restores them. */
  private _combine(suggestion: ISuggestion, checked: boolean): void {
    for (const part of suggestion.from) {
      const select = this._selects.get(part);
      if (!select) {
        continue;
      }
      if (checked) {
        select.dataset.before = select.value;
        select.value = SKIP;
      } else if (select.dataset.before) {
        select.value = select.dataset.before;
        delete select.dataset.before;
      }
    }
  }

  getValue(): ColumnSpec {
    const spec: ColumnSpec = {};
    for (const [column, select] of this._selects) {
      if (select.value !== SKIP) {
        spec[column] = select.value;
      }
    }
    for (const [box, suggestion] of this._combinations) {
      if (box.checked) {
        spec[suggestion.name] = { type: suggestion.type, from: [...suggestion.from] };
      }
    }
    return spec;
  }
}

/** Detects the file's columns, asks the user, submits the job; resolves once it is submitted. */
export async function normalizeFile(
  path: string,
  service: JobsService,
  openPanel: () => void
): Promise<void> {
  let detection: IDetection;
  try {
    detection = await api.detectColumns(path);
  } catch (error) {
    Notification.error(`Could not read the columns of ${path}: ${(error as Error).message}`);
    return;
  }
  const result = await showDialog({
    title: `Normalize ${detection.inputName} with nbjobs`,
    body: new NormalizeForm(detection),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Start job' })],
    focusNodeSelector: 'select'
  });
  if (!result.button.accept || !result.value) {
    return;
  }
  if (!Object.keys(result.value).length) {
    Notification.warning('Every column was skipped: no job was started.');
    return;
  }
  try {
    service.upsert(await api.submitFileJob(path, result.value));
  } catch (error) {
    Notification.error(`The job could not be started: ${(error as Error).message}`);
    return;
  }
  openPanel();
}
