/**
 * A merge's second thread, seen from the merge runner (tensor-merge.ts): when to start it, the read
 * batches that go through it, and write-behind of the merged tensors the runner lends to the saver.
 * The thread itself and its protocol are src/tensor/io/read-helper*.ts.
 */
import { ReadBatch } from '../tensor/io/read-batch.js';
import { ReadHelper, readThreads } from '../tensor/io/read-helper.js';
import { kernelsOf } from '../tensor/kernels/arena.js';
import type { WriteBehind } from '../tensor/safetensors-write.js';
import type { Scratch } from './sources.js';

/** Below this many bytes of inputs a second thread costs more to start (~30 ms) than it saves. */
const HELPER_MIN_BYTES = 64 << 20;

export class MergeThreads {
  private started: ReadHelper | null | undefined;
  private readonly plain = new ReadBatch();
  private helped: ReadBatch | null = null;
  private alternate = false;
  /** The result slot a write in flight reads from (never lent again until the write is settled). */
  private writing: number | null = null;

  /** `resultSlot` and the one after it are the scratch's result slots; `inputBytes` sizes the merge. */
  constructor(private readonly scratch: Scratch, private readonly resultSlot: number, private readonly inputBytes: number) {}

  /**
   * The batch reads go through: with the helper thread once the arena exists and the inputs are large
   * enough to repay starting one (reads outside the arena run on this thread either way).
   */
  batch(): ReadBatch {
    if (this.helped !== null) return this.helped;
    const arena = this.scratch.liveArena;
    if (this.started === undefined && arena !== null) {
      const threads = readThreads();
      const due = threads === 2 || (threads === 'auto' && this.inputBytes >= HELPER_MIN_BYTES);
      this.started = due ? ReadHelper.start(arena.buffer, arena.memory, kernelsOf(arena.buffer)) : null;
      if (this.started !== null) this.helped = new ReadBatch(this.started);
    }
    return this.helped ?? this.plain;
  }

  /** The helper thread, started here where one is due (see `batch`); null where there is none. */
  helperThread(): ReadHelper | null {
    this.batch();
    return this.started ?? null;
  }

  /** The slot the next merged tensor is computed in: not the one a write in flight reads from. */
  nextResultSlot(): number {
    return this.alternate && this.writing === this.resultSlot ? this.resultSlot + 1 : this.resultSlot;
  }

  /**
   * Writes of lent results on the helper thread (once one runs); from now on a result is computed in
   * whichever of the two result slots no write reads from.
   */
  writeBehind(): WriteBehind {
    this.alternate = true;
    const slotOf = (bytes: Uint8Array) => {
      for (const slot of [this.resultSlot, this.resultSlot + 1]) {
        const view = this.scratch.buffer(slot, 0);
        if (view.buffer === bytes.buffer && view.byteOffset === bytes.byteOffset) return slot;
      }
      return null;
    };
    return {
      start: (fd, bytes, position) => {
        const slot = slotOf(bytes);
        if (slot === null) return false; // not a lent result: nothing guards those bytes
        this.started?.settleWrite();
        this.writing = null;
        if (!(this.started?.startWrite(fd, bytes, position) ?? false)) return false;
        this.writing = slot;
        return true;
      },
      settle: () => {
        this.started?.settleWrite();
        this.writing = null;
      },
    };
  }

  /** Stops the helper thread (with the models). */
  release(): void {
    this.started?.close();
  }
}
