import { randomBytes } from 'node:crypto';

export type Clock = () => number;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastTime = -1;
let lastRandom: Buffer = Buffer.alloc(10);

function encodeRandom(random: Buffer): string {
  let tail = '';
  let bits = 0;
  let value = 0;
  for (const byte of random) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      tail += CROCKFORD[(value >> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return tail;
}

/** Adds one to an 80-bit big-endian number (wrapping is astronomically unlikely and harmless). */
function increment(random: Buffer): Buffer {
  const next = Buffer.from(random);
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i] < 255) {
      next[i]++;
      break;
    }
    next[i] = 0;
  }
  return next;
}

/**
 * A monotonic ULID: 48 bits of milliseconds then 80 random bits, in Crockford base 32. Ids sort by
 * creation time, which keeps the primary-key index append-mostly and makes ids readable in logs;
 * within one millisecond (or if the clock steps back) the random part counts up, so ids made one
 * after another in this process also sort in the order they were made (queue order relies on it).
 */
export function newId(now: number = Date.now()): string {
  let t = Math.max(0, Math.floor(now));
  if (t <= lastTime) {
    t = lastTime;
    lastRandom = increment(lastRandom);
  } else {
    lastTime = t;
    lastRandom = randomBytes(10);
  }
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time + encodeRandom(lastRandom);
}
