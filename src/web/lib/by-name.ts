/** One collator for every comparison: a screen sorts hundreds of names per roster. */
const names = new Intl.Collator(undefined, { numeric: true });

/** Orders people as a reader expects: by name, numbers within names by value ("Teacher 2" before "Teacher 10"). */
export function byName<T extends { name: string }>(a: T, b: T): number {
  return names.compare(a.name, b.name);
}
