const SNAPSHOT_COMMIT = /[\\/]snapshots[\\/]([0-9a-f]{40})(?:[\\/]|$)/;

/** The commit of a Hugging Face cache snapshot path (`…/snapshots/<commit>/…`); null for other paths. */
export function snapshotRevision(path: string): string | null {
  return SNAPSHOT_COMMIT.exec(path)?.[1] ?? null;
}
