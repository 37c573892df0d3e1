/**
 * An event bus: subscribers are closures over their own state, wrapped by a
 * small `once` helper. Both factories are small enough to be inlined into
 * the subscribing loop.
 */
type Handler = (payload: number) => number;

const handlers: Handler[] = [];
const listeners = new Map<string, Handler>();
export const kept = { subscriber: handlers, once: () => listeners.values(), topic: () => listeners.keys() };
export const grown = { handlers, listeners };

function subscriber(id: number): Handler {
  const seen: number[] = [id, 0, 0]; // @site subscriber
  return (payload) => { // @site subscriber
    seen[1] += payload;
    return seen[1];
  };
}

function once(fn: Handler): Handler {
  let done = false;
  return (payload) => { // @site once
    if (done) return 0;
    done = true;
    return fn(payload);
  };
}

function subscribe(topic: string, id: number): void {
  const h = subscriber(id);
  handlers.push(h); // @store handlers
  if (id % 2 === 0) listeners.set(topic, once(h)); // @store listeners @key topic
}

export function run(n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    subscribe('t' + (i >> 1), i); // @site topic
    total += handlers[i](1);
  }
  return total;
}
