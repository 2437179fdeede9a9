import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubClient } from '../../src/main/models/hub-client';
import { localhostCertificate } from './helpers/tls-cert';

const TREE = JSON.stringify([{ type: 'file', path: 'config.json', size: 2, oid: 'a'.repeat(40) }]);

describe('hub redirects over TLS (openssl makes the certificate; `npm test` checks it is installed)', () => {
  let cert: string;
  let hub: https.Server;
  let plain: http.Server;
  let plainRequests = 0;
  let hubUrl: string;

  beforeAll(async () => {
    const made = localhostCertificate();
    cert = made.cert;
    plain = http.createServer((_req, res) => {
      plainRequests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(TREE);
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const plainUrl = `http://127.0.0.1:${(plain.address() as net.AddressInfo).port}`;
    hub = https.createServer({ key: made.key, cert }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://localhost');
      // /api/models/down/… goes on to plain http; /api/models/up/… to another https path; /tree-of-up answers.
      if (url.pathname.startsWith('/api/models/down/')) res.writeHead(302, { location: `${plainUrl}/tree` }).end();
      else if (url.pathname.startsWith('/api/models/up/')) res.writeHead(302, { location: '/tree-of-up' }).end();
      else if (url.pathname === '/tree-of-up') res.writeHead(200, { 'content-type': 'application/json' }).end(TREE);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
    hubUrl = `https://localhost:${(hub.address() as net.AddressInfo).port}`;
  });

  afterAll(() => {
    hub?.close();
    plain?.close();
  });

  it('follows a redirect that stays on https', async () => {
    const client = new HubClient({ endpoint: hubUrl, ca: cert, retryDelayMs: 1 });
    expect(await client.listFiles('up/model', 'main')).toEqual([{ path: 'config.json', size: 2, oid: 'a'.repeat(40), sha256: null }]);
  });

  it('refuses a redirect from https down to plain http, saying where it pointed, and never connects there', async () => {
    const client = new HubClient({ endpoint: hubUrl, ca: cert, retryDelayMs: 1 });
    await expect(client.listFiles('down/model', 'main')).rejects.toMatchObject({ code: 'NETWORK', message: expect.stringMatching(/on to http:\/\/127\.0\.0\.1:\d+, which is not https/) });
    expect(plainRequests).toBe(0);
  });
});
