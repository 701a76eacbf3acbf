/**
 * Objects keyed by what users write (split names, data_files keys, config keys, task and model names):
 * a key such as `constructor` or `__proto__` must read as absent or as the user's own entry, never as a
 * member of Object.prototype.
 */

/** The object's own value at `key`, or undefined (inherited members are not values). */
export function own<T>(obj: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Sets an own entry, `__proto__` included (a plain assignment to it would replace the prototype). */
export function putOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
