/** What the model calls an element: `e12`, whatever spelling it used. */
export type Ref = `e${number}`;

/**
 * Reads a ref the way models write it: `e12`, `@e12`, `[ref=e12]`, `ref=e12`, `12`, or the
 * number 12. Undefined when it is not a ref at all.
 */
export function parseRef(input: unknown): Ref | undefined {
  if (typeof input === "number" && Number.isInteger(input) && input > 0) return `e${input}`;
  if (typeof input !== "string") return undefined;
  const m = /^\s*\[?\s*(?:ref\s*[=:]\s*)?@?\s*e?(\d{1,7})\s*\]?\s*$/i.exec(input);
  return m ? (`e${Number(m[1])}` as Ref) : undefined;
}

interface Entry {
  /** Playwright's ref for the element in its frame's current document (`e5`, `f2e7`). */
  pw: string;
  role: string;
  name: string;
}

export type Resolved =
  ({ ok: true; ref: Ref } & Entry) | { ok: false; ref: Ref; reason: "stale" | "unknown" };

/**
 * The refs one agent run hands its model. Playwright's own refs restart in every new document
 * (and are reused by other frames' documents), so the model never sees them: each element gets a
 * ref of ours that is never given to a second element in the run. An element keeps its ref
 * across snapshots while it stays in the same document with the same role and name.
 */
export class RefTable {
  private next = 1;
  private docKey: string | undefined;
  /** Playwright ref -> ours, for the current document. */
  private byPw = new Map<string, { ref: Ref } & Entry>();
  /** The refs of the latest snapshot: the only ones an action may use. */
  private current = new Map<Ref, Entry>();
  private pending = new Map<Ref, Entry>();

  /** Starts a snapshot of the document `docKey`; a new document retires every earlier ref. */
  begin(docKey: string): void {
    if (docKey !== this.docKey) {
      this.byPw.clear();
      this.docKey = docKey;
    }
    this.pending = new Map();
  }

  /** Our ref for an element of the snapshot being taken. */
  refFor(pw: string, role: string, name: string): Ref {
    const known = this.byPw.get(pw);
    let ref: Ref;
    if (known && known.role === role && known.name === name) ref = known.ref;
    else {
      ref = `e${this.next++}`;
      this.byPw.set(pw, { ref, pw, role, name });
    }
    this.pending.set(ref, { pw, role, name });
    return ref;
  }

  /** Makes the snapshot being taken the current one. */
  commit(): void {
    this.current = this.pending;
  }

  /** The element behind a ref of the current snapshot, or why there is none. */
  resolve(ref: Ref): Resolved {
    const entry = this.current.get(ref);
    if (entry) return { ok: true, ref, ...entry };
    const n = Number(ref.slice(1));
    return { ok: false, ref, reason: n < this.next ? "stale" : "unknown" };
  }
}
