// One Socket.IO connection per page and the jobs it keeps up to date. The list is read over REST
// on each (re)connect; between connects only events change it (never a timer).

import { ServerConnection } from '@jupyterlab/services';
import { PageConfig } from '@jupyterlab/coreutils';
import { ISignal, Signal } from '@lumino/signaling';
import { io, Socket } from 'socket.io-client';

import * as api from './api';
import {
  ACTIVE_STATUSES,
  IJob,
  IJobEvent,
  JOB_EVENTS,
  JobEventName,
  JobEventPayload,
  JobStatus
} from './types';

/** `live`: connected; `offline`: lost (reconnecting or given up, as `detail` says). */
export type ConnectionState = 'connecting' | 'live' | 'offline';

/** The same schedule as the kernel client: attempts 1, 2, 4, 8 and 16 s apart, then give up. */
export const RECONNECTION = {
  reconnection: true,
  reconnectionAttempts: 5,
  reconnectionDelay: 1000,
  reconnectionDelayMax: 16000,
  randomizationFactor: 0
};

/** Whether `listed` (a REST read) is older than `known` (what events said meanwhile). */
function isBehind(listed: IJob, known: IJob): boolean {
  const active = (status: string) => ACTIVE_STATUSES.includes(status as JobStatus);
  return (
    active(listed.status) && (!active(known.status) || known.processedRows > listed.processedRows)
  );
}

export class JobsService {
  private _socket: Socket | null = null;
  private _jobs = new Map<number, IJob>();
  private _state: ConnectionState = 'connecting';
  private _detail = '';
  private _listError = '';
  private _refreshing: Promise<void> | null = null;
  private _rereading = new Set<number>();
  private _rereadAgain = new Set<number>();
  private _changed = new Signal<this, void>(this);
  private _event = new Signal<this, IJobEvent>(this);

  /** Fires after any change to the jobs, the connection state or its detail. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Every job event received while the page is open, after the job list took it in. */
  get jobEvent(): ISignal<this, IJobEvent> {
    return this._event;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** A short human explanation of the state ("reconnecting, attempt 2 of 5", an error). */
  get detail(): string {
    return this._detail;
  }

  /** Why the last list fetch failed, or "". */
  get listError(): string {
    return this._listError;
  }

  /** The last 50 jobs, newest first. */
  get jobs(): IJob[] {
    return [...this._jobs.values()].sort((a, b) => b.jobId - a.jobId).slice(0, api.JOBS_LIMIT);
  }

  /** Opens the connection once; later calls do nothing. */
  start(): void {
    if (this._socket) {
      return;
    }
    const base = new URL(ServerConnection.makeSettings().baseUrl, window.location.href);
    // The URL path of io() would name a namespace: the base URL goes into `path` instead.
    const socket = io(base.origin, {
      path: `${base.pathname.replace(/\/?$/, '/')}nbjobs/socket.io`,
      // Called at every (re)connect: the server answers with the state of our active jobs and
      // the end of each job we follow that ended meanwhile (its catch-up).
      auth: callback => callback({ token: PageConfig.getToken(), follow: this._following() }),
      withCredentials: true,
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      ...RECONNECTION
    });
    this._socket = socket;
    socket.on('connect', () => {
      this._setState('live', '');
      // The catch-up brings the jobs this page shows up to date, but not one submitted
      // elsewhere (a kernel, the CLI) that started and ended while the page was offline: one
      // read of the list per (re)connect, never per event.
      void this.refresh();
    });
    socket.on('disconnect', reason => {
      const detail = socket.active ? 'connection lost, reconnecting…' : `disconnected (${reason})`;
      this._setState('offline', detail);
    });
    socket.on('connect_error', error => {
      if (!socket.active) {
        // Refused by the server (authentication): retrying would not help.
        this._setState('offline', `refused: ${error.message}`);
      }
    });
    socket.io.on('reconnect_attempt', attempt => {
      this._setState(
        'offline',
        `reconnecting, attempt ${attempt} of ${RECONNECTION.reconnectionAttempts}…`
      );
    });
    socket.io.on('reconnect_failed', () => {
      this._setState('offline', 'gave up reconnecting');
    });
    for (const name of JOB_EVENTS) {
      socket.on(name, (payload: JobEventPayload) => this._onEvent(name, payload));
    }
  }

  /** The ids of the jobs shown that have not ended, for the server's catch-up. */
  private _following(): number[] {
    return this.jobs
      .filter(job => ACTIVE_STATUSES.includes(job.status as JobStatus))
      .map(job => job.jobId);
  }

  /** Reconnects now, whatever the automatic schedule was doing. */
  reconnect(): void {
    if (!this._socket) {
      this.start();
      return;
    }
    // disconnect() also cancels a pending automatic attempt; connect() starts a new schedule.
    this._socket.disconnect();
    this._setState('connecting', 'connecting…');
    this._socket.connect();
  }

  /** Re-reads the last 50 jobs: what was missed while disconnected is caught up here. */
  refresh(): Promise<void> {
    this._refreshing ??= (async () => {
      try {
        const jobs = await api.listJobs();
        // Events that arrived while the request was out (the catch-up) are newer than it.
        const listed = jobs.map((job): [number, IJob] => {
          const known = this._jobs.get(job.jobId);
          return [job.jobId, known && isBehind(job, known) ? known : job];
        });
        this._jobs = new Map(listed);
        this._listError = '';
      } catch (error) {
        this._listError = `Could not load the jobs: ${(error as Error).message}`;
      } finally {
        this._refreshing = null;
        this._changed.emit();
      }
    })();
    return this._refreshing;
  }

  /** Adds or replaces a job the page learnt about over REST (a submission, a re-read). */
  upsert(job: IJob): void {
    this._jobs.set(job.jobId, { ...this._jobs.get(job.jobId), ...job });
    this._changed.emit();
  }

  async cancel(jobId: number): Promise<void> {
    this.upsert(await api.cancelJob(jobId));
  }

  private _setState(state: ConnectionState, detail: string): void {
    this._state = state;
    this._detail = detail;
    this._changed.emit();
  }

  private _onEvent(name: JobEventName, payload: JobEventPayload): void {
    const known = this._jobs.get(payload.jobId);
    if (known) {
      this._jobs.set(payload.jobId, { ...known, ...payload });
      if (name === 'job:progress' && known.status === 'queued' && !('status' in payload)) {
        this._jobs.get(payload.jobId)!.status = 'running';
      }
      this._changed.emit();
    }
    if (!known || name !== 'job:progress') {
      // A job started elsewhere (a kernel, the CLI), or a finished one whose event lacks the
      // times, download links and summary: read it whole.
      void this._reread(payload.jobId);
    }
    this._event.emit({ name, payload });
  }

  private async _reread(jobId: number): Promise<void> {
    if (this._rereading.has(jobId)) {
      this._rereadAgain.add(jobId);
      return;
    }
    this._rereading.add(jobId);
    try {
      const job = await api.getJob(jobId);
      const known = this._jobs.get(jobId);
      // Events that arrived while the request was out are newer than the response.
      if (known && isBehind(job, known)) {
        return;
      }
      this.upsert(job);
    } catch {
      // Gone or not ours: nothing to show.
    } finally {
      this._rereading.delete(jobId);
      if (this._rereadAgain.delete(jobId)) {
        void this._reread(jobId);
      }
    }
  }
}

let instance: JobsService | null = null;

/** The page's one service: the same object however often plugins or panels ask for it. */
export function jobsService(): JobsService {
  instance ??= new JobsService();
  return instance;
}
