/** One finished upstream attempt (kept only when a request is re-dispatched: retries are rare). */
export class AttemptRecord {
  constructor(
    readonly start: number,
    readonly end: number,
    readonly endpoint: string,
    readonly version: string,
    readonly status: number,
    readonly error: string | null,
  ) {}
}
