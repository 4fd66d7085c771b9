// The server's JSON, as documented in docs/openapi.yaml and src/nbjobs/events.py.

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

export const ACTIVE_STATUSES: ReadonlyArray<JobStatus> = ['queued', 'running'];

export interface IReasonCount {
  code: string;
  message: string;
  count: number;
}

/** One typed column of a completed job (`summary` in the job JSON, when the server has it). */
export interface IColumnSummary {
  column: string;
  type: string;
  rows: number;
  null: number;
  invalid: number;
  changed: number;
  unchanged: number;
  topReasons: IReasonCount[];
  /** Values that normalized only after a repair (newer servers). */
  topRepairs?: IReasonCount[];
}

export interface IJob {
  jobId: number;
  status: JobStatus;
  processedRows: number;
  validRows: number;
  invalidRows: number;
  totalRows: number | null;
  progress: number;
  outputFileUrl: string | null;
  invalidRowsUrl?: string | null;
  errorMessage?: string | null;
  createdAt?: string | null;
  startedAt?: string | null;
  finishedAt?: string | null;
  inputName?: string;
  columns?: Record<string, unknown>;
  summary?: IColumnSummary[] | null;
  /** In `job:progress` while the job runs: rows per second since it started, seconds left. */
  rowsPerSecond?: number;
  eta?: number | null;
  /** In `job:progress` every few seconds while the job runs: counts per typed column. */
  columnCounts?: IColumnCount[];
  preview?: Record<string, string>[];
}

/** One typed column's counts so far (`job:progress`'s `columnCounts`). */
export interface IColumnCount {
  column: string;
  type: string;
  valid: number;
  invalid: number;
  null: number;
}

/** `job:progress`, `job:completed`, `job:failed`, `job:cancelled` payloads: a part of a job. */
export type JobEventPayload = Partial<IJob> & { jobId: number };

export const JOB_EVENTS = ['job:progress', 'job:completed', 'job:failed', 'job:cancelled'] as const;
export type JobEventName = (typeof JOB_EVENTS)[number];

export interface IJobEvent {
  name: JobEventName;
  payload: JobEventPayload;
}

/** `POST nbjobs/api/detect` */
export interface IDetectedColumn {
  name: string;
  type: string;
  confidence: number;
  reason?: string;
  /** The suggested combination this column would go into, if any. */
  partOf?: string | null;
}

export interface ISuggestionPreview {
  parts: string[];
  combined: string;
  normalized: string | null;
  valid: boolean;
}

export interface ISuggestion {
  name: string;
  type: string;
  from: string[];
  confidence: number;
  preview?: ISuggestionPreview[];
}

export interface IDetection {
  inputName: string;
  columns: IDetectedColumn[];
  suggestions: ISuggestion[];
  fields: string[];
}

/** The `columns` of a `POST jobs` JSON body. */
export type ColumnSpec = Record<string, string | { type: string; from: string[] }>;
