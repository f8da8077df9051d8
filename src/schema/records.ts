// Objects keyed by names a client chose (attribute names). A plain {} inherits Object.prototype:
// a lookup of "constructor" or "toString" finds the prototype's member, and assigning to
// "__proto__" replaces the prototype instead of storing a value, so such names would pass checks
// and then vanish. Every attribute-keyed object Silt builds has a null prototype instead, and
// lookups in objects that came from elsewhere (JSON.parse) go by own properties only.

/** An empty object with no prototype: every key is an own data property. */
export function nameRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** A null-prototype copy of `obj`'s own enumerable properties (e.g. of a JSON.parse result). */
export function toNameRecord<T>(obj: Readonly<Record<string, T>>): Record<string, T> {
  // Object.assign sets keys with [[Set]]; on a null-prototype target "__proto__" is a plain key.
  return Object.assign(nameRecord<T>(), obj);
}

/** record[name] when it is an own property, else undefined (never an Object.prototype member). */
export function ownValue<T>(record: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}
