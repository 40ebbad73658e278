/**
 * JSON values as CEL sees them, converted lazily.
 *
 * CEL wants JSON integers as ints (bigint) so `input.count + 1` works. Converting a whole input
 * up front costs ~300 ms for a 4 MB document on every evaluation, whatever the expression reads,
 * so objects and arrays are wrapped in read-only views that convert a member when it is read.
 * The raw values of the run's state are deep-frozen, and a Proxy over a frozen target must
 * return the target's own values, so each view proxies an empty stand-in and reads the raw value.
 */

const views = new WeakMap<object, object>();
// Listing a 200,000-key object's keys takes ~40 ms in V8; a run's input is read by many evaluations.
const keyLists = new WeakMap<object, string[]>();
let onEnumerate: ((count: number) => void) | undefined;

/**
 * Called with the number of keys before a view's keys are listed (a comprehension over a map
 * lists them all before its first step), so an evaluation pays for a 200,000-key object first.
 */
export function setEnumerationListener(listener: ((count: number) => void) | undefined): void {
  onEnumerate = listener;
}
const raws = new WeakMap<object, object>();

export function celView(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (raws.has(value)) return value;
  if (Object.getPrototypeOf(value) !== Object.prototype && !Array.isArray(value)) return value;
  let view = views.get(value);
  if (!view) {
    view = new Proxy(Array.isArray(value) ? [] : {}, handler(value as Record<string, unknown>));
    views.set(value, view);
    raws.set(view, value);
  }
  return view;
}

/** The JSON value under a view, or undefined when `value` is not one. */
export function rawOf(value: object): object | undefined {
  return raws.get(value);
}

function handler(raw: Record<string | symbol, unknown>): ProxyHandler<object> {
  const isArray = Array.isArray(raw);
  const isMember = (key: string | symbol): key is string =>
    typeof key === 'string' && Object.hasOwn(raw, key) && !(isArray && key === 'length');
  return {
    get: (_target, key) => (isMember(key) ? celView(raw[key]) : Reflect.get(raw, key)),
    has: (_target, key) => key in raw,
    ownKeys: () => {
      let keys = keyLists.get(raw);
      if (!keys) keyLists.set(raw, (keys = Object.keys(raw)));
      onEnumerate?.(keys.length);
      return isArray ? [...keys, 'length'] : [...keys];
    },
    getOwnPropertyDescriptor: (_target, key) => {
      // The stand-in array's own `length` is writable and not configurable; the view must say the same.
      if (isArray && key === 'length')
        return { value: raw.length, writable: true, enumerable: false, configurable: false };
      if (!isMember(key)) return undefined;
      return {
        value: celView(raw[key]),
        writable: false,
        enumerable: Object.prototype.propertyIsEnumerable.call(raw, key),
        configurable: true,
      };
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
    setPrototypeOf: () => false,
  };
}
