// Every random decision of a strategy goes through Rng, and experiments promise that a seed
// reproduces a run. The sequences are pinned here, so a change to the generator, its seeding or
// the way a stream is derived from its name fails these tests.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/index.ts';

const take = (r: Rng, n: number): number[] => Array.from({ length: n }, () => r.nextUint32());

describe('Rng: pinned sequences', () => {
  it('numeric seeds give fixed sequences', () => {
    assert.deepEqual(take(new Rng(), 5), [4205396811, 3543653536, 1222415357, 3047368389, 387095348]);
    assert.deepEqual(take(new Rng(0), 5), [4205396811, 3543653536, 1222415357, 3047368389, 387095348]);
    assert.deepEqual(take(new Rng(1234), 5), [3751310624, 208782122, 4280206736, 2333863780, 1513959442]);
  });

  it('a numeric seed is taken modulo 2^32 (negative and fractional seeds included)', () => {
    assert.deepEqual(take(new Rng(-1), 2), [1413747962, 91561161]);
    assert.deepEqual(take(new Rng(0xffffffff), 2), take(new Rng(-1), 2));
    assert.deepEqual(take(new Rng(2 ** 32 + 1), 3), take(new Rng(1), 3));
    assert.deepEqual(take(new Rng(1.9), 3), take(new Rng(1), 3));
  });

  it('string seeds are hashed (FNV-1a) to a fixed sequence', () => {
    assert.deepEqual(take(new Rng('experiment-a'), 3), [1822241656, 1641200615, 4211148617]);
    // The empty string hashes to FNV-1a's offset basis.
    assert.deepEqual(take(new Rng(''), 2), take(new Rng(2166136261), 2));
  });

  it('the named streams the strategies train from are fixed for a seed', () => {
    const streams: Record<string, number[]> = {
      'uniform-train': [3938462995, 4280058142, 397947166],
      'sandwich-train': [1232610086, 2080645441, 103700861],
      'pss-train': [2595085310, 2939897334, 1562629830],
      'cafenet-train': [3718596246, 1213728847, 1903591751],
      'dna-train': [1596105450, 2815804891, 4189396574],
    };
    for (const [name, expected] of Object.entries(streams)) assert.deepEqual(take(new Rng(1234).fork(name), 3), expected, name);
    assert.deepEqual(take(new Rng(7).fork('train'), 3), [2362346125, 1906278593, 3421604224]);
    assert.deepEqual(take(new Rng(7).fork('search:flops:1000:0'), 3), [110565752, 354902181, 3126694625]);
  });

  it('the derived draws are fixed for a seed', () => {
    const g = new Rng(42);
    assert.deepEqual([g.next(), g.next()], [0.23955312534235418, 0.5859209857881069]);
    assert.deepEqual(Array.from({ length: 8 }, () => g.int(10)), [0, 1, 4, 8, 8, 9, 4, 9]);
    assert.equal(g.uniform(-1, 1), -0.5622493824921548);
    assert.equal(g.normal(), -0.9529301625690199);
    assert.equal(g.choice(['a', 'b', 'c', 'd']), 'd');
    assert.deepEqual(Array.from({ length: 8 }, () => g.weightedIndex([1, 0, 3])), [2, 2, 2, 2, 2, 2, 0, 2]);
    assert.deepEqual(g.shuffle([0, 1, 2, 3, 4, 5, 6, 7]), [4, 3, 0, 5, 7, 6, 1, 2]);
    assert.deepEqual(g.state(), [2558566282, 2418754025, 1449208285, 3317318758]);
  });
});

describe('Rng: reproducibility', () => {
  it('two instances with the same seed and stream name draw the same sequence', () => {
    for (const seed of [0, 1, 99, 'x']) {
      const a = new Rng(seed).fork('pss-train');
      const b = new Rng(seed).fork('pss-train');
      assert.deepEqual(take(a, 1000), take(b, 1000));
    }
  });

  it('a fresh process draws the same sequence as this one', () => {
    const script =
      `import { Rng } from ${JSON.stringify(new URL('../src/rng.ts', import.meta.url).href)};` +
      "const r = new Rng(31).fork('dna-train'); console.log(JSON.stringify(Array.from({ length: 64 }, () => r.nextUint32())));";
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd });
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout) as number[], take(new Rng(31).fork('dna-train'), 64));
  });

  it('state() and setState() resume the exact stream, also through JSON', () => {
    const a = new Rng(5);
    take(a, 17);
    const saved = JSON.parse(JSON.stringify(a.state())) as number[];
    for (const x of saved) assert.ok(Number.isInteger(x) && x >= 0 && x <= 0xffffffff);
    const b = new Rng(999);
    b.setState(saved);
    assert.deepEqual(take(b, 100), take(a, 100));
  });

  it('setState refuses anything but four unsigned 32-bit integers, and keeps its state', () => {
    const r = new Rng(3);
    const before = r.state();
    for (const bad of [[1, 2, 3], [1, 2, 3, 4, 5], [1, 2, 3, -1], [1, 2, 3, 2 ** 32], [1, 2, 3, 0.5], [1, 2, 3, Number.NaN]]) {
      assert.throws(() => r.setState(bad), { name: 'RangeError', message: 'Rng state must be four unsigned 32-bit integers' });
    }
    assert.deepEqual(r.state(), before);
  });
});

describe('Rng: streams', () => {
  /** Fraction of equal bits between two sequences of unsigned 32-bit integers. */
  const equalBits = (x: number[], y: number[]): number => {
    let same = 0;
    for (let i = 0; i < x.length; i++) {
      let v = ~((x[i] as number) ^ (y[i] as number)) >>> 0;
      while (v) {
        same += v & 1;
        v >>>= 1;
      }
    }
    return same / (32 * x.length);
  };

  it('different stream names of one seed give unrelated sequences', () => {
    const names = ['uniform-train', 'sandwich-train', 'pss-train', 'cafenet-train', 'dna-train', 'a', 'b'];
    const seqs = names.map((n) => take(new Rng(1234).fork(n), 2000));
    for (let i = 0; i < seqs.length; i++) {
      for (let j = i + 1; j < seqs.length; j++) {
        // 64,000 bits: independent streams agree on 50% +- 0.2% (one standard deviation).
        const f = equalBits(seqs[i]!, seqs[j]!);
        assert.ok(Math.abs(f - 0.5) < 0.01, `${names[i]} and ${names[j]} agree on ${f} of their bits`);
      }
    }
  });

  it('one name under different seeds gives unrelated sequences', () => {
    const x = take(new Rng(1).fork('train'), 2000);
    const y = take(new Rng(2).fork('train'), 2000);
    assert.ok(Math.abs(equalBits(x, y) - 0.5) < 0.01);
  });

  it('forking advances the parent by exactly one draw and leaves earlier forks alone', () => {
    const parent = new Rng(8);
    const twin = new Rng(8);
    const child = parent.fork('c');
    twin.nextUint32();
    assert.deepEqual(parent.state(), twin.state());
    const expected = take(new Rng(8).fork('c'), 10);
    take(parent, 50);
    parent.fork('d');
    assert.deepEqual(take(child, 10), expected);
  });

  it('draws from a child do not move the parent', () => {
    const parent = new Rng(8);
    const child = parent.fork('c');
    const state = parent.state();
    take(child, 100);
    assert.deepEqual(parent.state(), state);
  });
});

describe('Rng: distributions and argument checks', () => {
  it('next() is in [0, 1) with mean near 1/2; int(n) covers [0, n) evenly', () => {
    const r = new Rng(11);
    let sum = 0;
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 20000; i++) {
      const u = r.next();
      assert.ok(u >= 0 && u < 1);
      sum += u;
      counts[r.int(10)]!++;
    }
    assert.ok(Math.abs(sum / 20000 - 0.5) < 0.01, `mean ${sum / 20000}`);
    for (const c of counts) assert.ok(c > 1850 && c < 2150, `bucket count ${c} of 20000`);
  });

  it('weightedIndex follows the weights and never picks a zero weight', () => {
    const r = new Rng(12);
    const counts = [0, 0, 0];
    for (let i = 0; i < 8000; i++) counts[r.weightedIndex([1, 0, 3])]!++;
    assert.equal(counts[1], 0);
    assert.ok(Math.abs(counts[0]! / 8000 - 0.25) < 0.02, `index 0 drawn ${counts[0]} of 8000`);
  });

  it('normal() has mean 0 and variance 1', () => {
    const r = new Rng(13);
    const xs = Array.from({ length: 20000 }, () => r.normal());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.04, `variance ${variance}`);
    assert.ok(xs.every(Number.isFinite));
  });

  it('shuffle permutes in place', () => {
    const items = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const out = new Rng(14).shuffle(items);
    assert.equal(out, items);
    assert.deepEqual([...out].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('refuses empty ranges with RangeErrors that say why', () => {
    const r = new Rng(1);
    assert.throws(() => r.int(0), { name: 'RangeError', message: 'Rng.int needs n > 0, got 0' });
    assert.throws(() => r.int(Number.NaN), { name: 'RangeError', message: 'Rng.int needs n > 0, got NaN' });
    assert.throws(() => r.choice([]), { name: 'RangeError', message: 'Rng.choice of an empty list' });
    assert.throws(() => r.weightedIndex([0, 0]), { name: 'RangeError', message: 'Rng.weightedIndex needs a positive total weight' });
    assert.throws(() => r.weightedIndex([]), { name: 'RangeError', message: 'Rng.weightedIndex needs a positive total weight' });
  });
});
