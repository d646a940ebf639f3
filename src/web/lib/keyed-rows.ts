/**
 * A roster's rows in a list or table body, kept in name order and keyed by student, so one
 * change touches its own row only. Rebuilding the whole list per change cost the classroom
 * screen 45,000 elements and a 5 s long task for a burst of 300 check-ins
 * (scripts/bench-classroom-screen.ts).
 */
import { byName } from './by-name.js';

export class KeyedRows<E extends { studentId: string; name: string }> {
  private readonly rows = new Map<string, HTMLElement>();
  private readonly entries = new WeakMap<Element, E>();

  /**
   * @param make builds one entry's row
   * @param shown whether an entry has a row at all (the classroom screen's privacy mode)
   */
  constructor(
    private readonly container: HTMLElement,
    private readonly make: (entry: E) => HTMLElement,
    private readonly shown: (entry: E) => boolean = () => true,
  ) {}

  /** Every row anew from `sorted` (by name): a snapshot, or a change of what every row shows. */
  replaceAll(sorted: readonly E[]): void {
    this.rows.clear();
    const els: HTMLElement[] = [];
    for (const entry of sorted) {
      if (!this.shown(entry)) continue;
      const el = this.row(entry);
      els.push(el);
    }
    this.container.replaceChildren(...els);
  }

  /** Puts each entry's row in place, added, replaced or removed; every other row stays as it is. */
  apply(entries: Iterable<E>): void {
    for (const entry of entries) {
      const held = this.rows.get(entry.studentId);
      if (!this.shown(entry)) {
        held?.remove();
        this.rows.delete(entry.studentId);
        continue;
      }
      const el = this.row(entry);
      const focused = held ? focusedControl(held) : null;
      if (held && this.entries.get(held)?.name === entry.name) held.replaceWith(el);
      else {
        held?.remove();
        this.container.insertBefore(el, this.after(entry));
      }
      if (focused) refocus(el, focused);
    }
  }

  private row(entry: E): HTMLElement {
    const el = this.make(entry);
    this.rows.set(entry.studentId, el);
    this.entries.set(el, entry);
    return el;
  }

  /** The first row whose name sorts after `entry`'s (binary search: the rows are in name order). */
  private after(entry: E): Element | null {
    const children = this.container.children;
    let lo = 0;
    let hi = children.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.entries.get(children[mid]!);
      if (other && byName(other, entry) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return children[lo] ?? null;
  }
}

/** What a keyboard can reach in a row. */
const CONTROLS = 'a[href], button, input, select, textarea, [tabindex]';

interface Focused {
  tag: string;
  className: string;
  index: number;
}

/** The control of `row` that has the focus, if one has. */
function focusedControl(row: HTMLElement): Focused | null {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || !row.contains(active)) return null;
  return { tag: active.tagName, className: active.className, index: [...row.querySelectorAll(CONTROLS)].indexOf(active) };
}

/**
 * Gives the focus to the redrawn row's matching control (same kind and class, else the same
 * place): a check-in arriving during a burst would otherwise drop it to the page's top while
 * the teacher is about to mark that very student from the keyboard.
 */
function refocus(row: HTMLElement, was: Focused): void {
  const controls = [...row.querySelectorAll<HTMLElement>(CONTROLS)];
  const same = controls.find((c) => c.tagName === was.tag && c.className === was.className);
  const target = same ?? controls[Math.min(Math.max(was.index, 0), controls.length - 1)];
  target?.focus({ preventScroll: true });
}
