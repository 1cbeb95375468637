/**
 * Group commit: requests that arrive while a batch is being written wait and go together in the next one. An idle
 * batcher writes a lone request at once (after the current tick, so that requests of the same tick share it); under
 * a burst — a thousand agents saying hello after a console restart — the batches grow by themselves, and the database
 * sees one statement set and one commit per batch instead of per agent.
 *
 * The batch function answers each item in order: a value, or an Error for that item alone.
 */
export type BatchFn<In, Out> = (items: In[]) => Promise<(Out | Error)[]>;

interface Waiting<In, Out> {
  item: In;
  resolve: (out: Out) => void;
  reject: (err: Error) => void;
}

export class Batcher<In, Out> {
  private queue: Waiting<In, Out>[] = [];
  private writing = false;
  private scheduled = false;
  /** Batches written so far, and the largest (for tests and logs). */
  batches = 0;
  largest = 0;

  constructor(
    private readonly write: BatchFn<In, Out>,
    private readonly maxBatch = 500,
  ) {}

  /** Requests waiting for the next batch. */
  get waiting(): number {
    return this.queue.length;
  }

  add(item: In): Promise<Out> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.writing || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    const batch = this.queue.splice(0, this.maxBatch);
    this.batches++;
    this.largest = Math.max(this.largest, batch.length);
    try {
      const out = await this.write(batch.map((w) => w.item));
      if (out.length !== batch.length) throw new Error(`batch answered ${out.length} of ${batch.length} items`);
      batch.forEach((w, i) => {
        const r = out[i];
        if (r instanceof Error) w.reject(r);
        else w.resolve(r);
      });
    } catch (err) {
      for (const w of batch) w.reject(err as Error);
    } finally {
      this.writing = false;
      this.kick();
    }
  }
}
