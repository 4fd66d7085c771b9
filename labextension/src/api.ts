// REST calls to <base_url>nbjobs/api/: ServerConnection adds the token and the XSRF header.

import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { ColumnSpec, IDetection, IJob } from './types';

export const JOBS_LIMIT = 50;

/** A refused request, with the server's `{"message"}`. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

async function request<T>(endPoint: string, init: RequestInit = {}, query = ''): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'nbjobs', 'api', endPoint) + query;
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ApiError(`The Jupyter server cannot be reached (${error}).`, 0);
  }
  const text = await response.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = data?.message ?? `${response.status} ${response.statusText}`;
    throw new ApiError(message, response.status);
  }
  return data as T;
}

function postJSON<T>(endPoint: string, body: unknown): Promise<T> {
  return request<T>(endPoint, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' }
  });
}

export async function listJobs(): Promise<IJob[]> {
  const data = await request<{ jobs: IJob[] }>('jobs', {}, `?limit=${JOBS_LIMIT}`);
  return data.jobs;
}

export function getJob(jobId: number): Promise<IJob> {
  return request<IJob>(`jobs/${jobId}`);
}

export function cancelJob(jobId: number): Promise<IJob> {
  return request<IJob>(`jobs/${jobId}/cancel`, { method: 'POST' });
}

/** `path` is relative to the server root, as the file browser gives it. */
export function submitFileJob(path: string, columns: ColumnSpec): Promise<IJob> {
  return postJSON<IJob>('jobs', { path, columns });
}

export function detectColumns(path: string): Promise<IDetection> {
  return postJSON<IDetection>('detect', { path });
}

/**
 * An absolute URL for a server path such as `outputFileUrl`, usable as a plain link: the page's
 * login cookie authenticates it, or the page token when there is one.
 */
export function downloadUrl(serverPath: string): string {
  const base = new URL(ServerConnection.makeSettings().baseUrl, window.location.href);
  const url = new URL(serverPath, base.origin);
  const token = PageConfig.getToken();
  if (token) {
    url.searchParams.set('token', token);
  }
  return url.href;
}
