// Every ServerConfig field is a `serve` setting with a flag and an environment variable that
// commander reads into that field, and `supernetd serve --help` names both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SERVE_SETTINGS, configFromArgs, serveHelp } from '../src/cli-config.ts';
import type { Setting } from '../src/cli-config.ts';
import { DEFAULT_CONFIG } from '../src/config.ts';
import type { ServerConfig } from '../src/config.ts';

/** Valid string values where any string would not do. */
const STRING_SAMPLES: Partial<Record<keyof ServerConfig, string>> = { backend: 'wasm', logLevel: 'warn' };

/** A value of the setting that differs from its default, as text and as the config holds it. */
function sample(s: Setting): { text: string; value: unknown } {
  const d = DEFAULT_CONFIG[s.key];
  switch (s.kind) {
    case 'int': {
      const v = ((d as number | undefined) ?? 0) + 1;
      return { text: String(v), value: v };
    }
    case 'list':
      return { text: 'pkg-a', value: ['pkg-a'] };
    case 'switch':
      return { text: '1', value: true };
    default: {
      const v = STRING_SAMPLES[s.key] ?? `${s.key}-value`;
      return { text: v, value: v };
    }
  }
}

const flagOf = (s: Setting) => s.flags.split(' ')[0]!;
// TLS needs both files; the other one comes along with each of the two.
const PARTNER: Partial<Record<keyof ServerConfig, [string, string, string]>> = {
  tlsCertPath: ['--tls-key', 'SUPERNETD_TLS_KEY', 'key.pem'],
  tlsKeyPath: ['--tls-cert', 'SUPERNETD_TLS_CERT', 'cert.pem'],
};

test('every ServerConfig field has exactly one serve setting', () => {
  const keys = SERVE_SETTINGS.map((s) => s.key);
  assert.deepEqual([...keys].sort(), Object.keys(DEFAULT_CONFIG).sort());
  assert.equal(new Set(SERVE_SETTINGS.map((s) => s.env)).size, SERVE_SETTINGS.length, 'environment variables are unique');
});

test('each flag and each environment variable sets its field', () => {
  for (const s of SERVE_SETTINGS) {
    const { text, value } = sample(s);
    const partner = PARTNER[s.key];
    const flagArgs = s.kind === 'switch' ? [flagOf(s)] : [flagOf(s), text];
    const fromFlag = configFromArgs(['serve', ...flagArgs, ...(partner ? [partner[0], partner[2]] : [])], {}).config;
    assert.deepEqual(fromFlag[s.key], value, `${flagOf(s)} sets ${s.key}`);
    const env: NodeJS.ProcessEnv = { [s.env]: text, ...(partner ? { [partner[1]]: partner[2] } : {}) };
    assert.deepEqual(configFromArgs(['serve'], env).config[s.key], value, `${s.env} sets ${s.key}`);
  }
});

test('serve --help names every flag and environment variable', () => {
  const help = serveHelp();
  for (const s of SERVE_SETTINGS) {
    assert.ok(help.includes(flagOf(s)), `help lists ${flagOf(s)}`);
    assert.ok(help.includes(s.env), `help lists ${s.env}`);
  }
  assert.match(help, /--config <file\.json>/);
  assert.match(help, /SUPERNETD_CONFIG/);
  assert.equal(configFromArgs(['serve', '--help'], {}).help, true);
});
