import { describe, expect, it } from 'vitest';
import { calls } from '../../../src/shared/contract';
import { hubEndpointProblem } from '../../../src/shared/hub-endpoint';

describe('hub endpoints', () => {
  it('accepts https anywhere and plain http only on this machine', () => {
    for (const ok of ['https://huggingface.co', 'https://hf-mirror.example.com/', 'https://mirror.example:8443/hub', 'http://127.0.0.1:8080', 'http://localhost:5000', 'http://[::1]:9000', 'http://127.1.2.3']) {
      expect(hubEndpointProblem(ok), ok).toBeNull();
    }
  });

  it('refuses plain http to another machine with a message that says what to use instead', () => {
    expect(hubEndpointProblem('http://hub.example.com')).toMatch(/Plain http:\/\/ is refused for hub\.example\.com.*https:\/\/hub\.example\.com/);
    expect(hubEndpointProblem('http://192.168.1.20:8080')).toMatch(/refused/);
    // Not loopback, whatever the name suggests.
    expect(hubEndpointProblem('http://localhost.evil.example')).toMatch(/refused/);
    expect(hubEndpointProblem('http://127.0.0.1.evil.example')).toMatch(/refused/);
  });

  it('refuses other schemes, embedded credentials and non-URLs', () => {
    expect(hubEndpointProblem('ftp://huggingface.co')).toMatch(/https/);
    expect(hubEndpointProblem('file:///etc')).toMatch(/https/);
    expect(hubEndpointProblem('https://user:pw@huggingface.co')).toMatch(/user name or password/);
    expect(hubEndpointProblem('huggingface.co')).toMatch(/not a URL/);
  });

  it('settings.set refuses what the hub client would refuse, before anything is stored', () => {
    const input = calls['settings.set'].input;
    expect(input.safeParse({ hubEndpoint: 'https://huggingface.co' }).success).toBe(true);
    const refused = input.safeParse({ hubEndpoint: 'http://hub.example.com' });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toMatch(/Plain http:\/\/ is refused/);
  });
});

describe('settings.set input', () => {
  it('bounds panel sizes, so a client cannot grow the settings row without limit', () => {
    const input = calls['settings.set'].input;
    expect(input.safeParse({ panelSizes: { write: 30, library: 22.5 } }).success).toBe(true);
    expect(input.safeParse({ panelSizes: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, 10])) }).success).toBe(false);
    expect(input.safeParse({ panelSizes: { ['x'.repeat(65)]: 10 } }).success).toBe(false);
  });
});
