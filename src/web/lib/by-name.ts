/** Orders people as a reader expects: by name, numbers within names by value ("Teacher 2" before "Teacher 10"). */
export function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name.localeCompare(b.name, undefined, { numeric: true });
}
