// The cloudline comm's messages, version 1 (the kernel side is the Go
// package livecomm; the README documents both).

export const COMM_TARGET = 'cloudline';
export const PROTOCOL_VERSION = 1;
export const NOTE_MIME = 'application/vnd.cloudline.note+json';

export interface IFinding {
  rule: string;
  headline: string;
}

export interface IGPU {
  devices: number;
  mem_used_bytes: number;
  mem_total_bytes: number;
  util_percent: number;
}

export interface IProgress {
  fraction: number;
  projected_s?: number;
  source?: string;
}

/** A running cell's figures ("cell") or its summary ("cell_end"). */
export interface ICellMsg {
  v: number;
  type: 'cell' | 'cell_end';
  msg_id: string;
  cell_id?: string;
  status: string;
  elapsed_s: number;
  cpu_s: number;
  peak_rss_bytes: number;
  mem_limit_bytes: number;
  read_bytes: number;
  gpu?: IGPU;
  progress?: IProgress;
  findings: IFinding[];
  last_run_s?: number;
  started: string;
}

/** The kernel's memory against its effective limit, every 5 s. */
export interface IKernelMsg {
  v: number;
  type: 'kernel';
  rss_bytes: number;
  mem_limit_bytes: number;
  limit_source: string;
  memory_fraction: number;
  gpu?: IGPU;
}

export interface IPastCell {
  cell_id?: string;
  code_hash: string;
  wall_s: number;
  ended: string;
}

/** The answer to comm_open (and to a refresh). */
export interface IHelloMsg {
  v: number;
  type: 'hello';
  memory_fraction: number;
  live_after_s: number;
  training_time_s: number;
  history: IPastCell[];
}

export type KernelToFrontend = ICellMsg | IKernelMsg | IHelloMsg;

/** The note's JSON form (application/vnd.cloudline.note+json). */
export interface INoteFinding {
  rule: string;
  checkpoint?: string;
  headline: string;
  details?: string;
  service?: string;
  docs_url?: string;
  silence?: string;
}

export interface INote {
  v: number;
  cell?: { execution_count?: number; line?: string };
  findings: INoteFinding[];
  status?: { state: string; text: string; elapsed_s: number } | null;
}

/** parse returns a known v1 message, or null. */
export function parse(data: unknown): KernelToFrontend | null {
  if (typeof data !== 'object' || data === null) {
    return null;
  }
  const m = data as { v?: unknown; type?: unknown };
  if (m.v !== PROTOCOL_VERSION) {
    return null;
  }
  switch (m.type) {
    case 'cell':
    case 'cell_end':
    case 'kernel':
    case 'hello':
      return data as KernelToFrontend;
  }
  return null;
}
