/**
 * The demo's static server (web/server.ts, web/serve.ts): GET and HEAD only, no file outside its
 * root through a symlink, and one clear line (no stack trace) when the port is busy.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startServer, type StaticServer } from '../../web/server.js';

describe('the demo server', () => {
  let dir: string, server: StaticServer;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-server-'));
    const root = path.join(dir, 'root');
    await mkdir(path.join(root, 'inner'), { recursive: true });
    await writeFile(path.join(root, 'index.html'), '<p>demo</p>');
    await writeFile(path.join(root, 'inner', 'a.json'), '{"a":1}');
    await writeFile(path.join(dir, 'secret.txt'), 'not for the web');
    await symlink(path.join(dir, 'secret.txt'), path.join(root, 'leak.txt'));
    await symlink(dir, path.join(root, 'up'));
    await symlink(path.join(root, 'inner', 'a.json'), path.join(root, 'alias.json'));
    server = await startServer({ mounts: { '/': root } });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers GET and HEAD', async () => {
    const get = await fetch(`${server.url}/inner/a.json`);
    assert.equal(get.status, 200);
    assert.equal(await get.text(), '{"a":1}');
    const head = await fetch(`${server.url}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '11');
    assert.equal(await head.text(), '');
  });

  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    it(`refuses ${method} with 405 and no file`, async () => {
      const response = await fetch(`${server.url}/inner/a.json`, {
        method,
        body: method === 'OPTIONS' ? undefined : 'x',
      });
      assert.equal(response.status, 405);
      assert.equal(response.headers.get('allow'), 'GET, HEAD');
      assert.doesNotMatch(await response.text(), /"a":1/);
    });
  }

  it('refuses TRACE with 405', async () => {
    // fetch() refuses to send TRACE itself: a raw request
    const { port } = new URL(server.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () =>
        socket.end('TRACE /inner/a.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      );
      let text = '';
      socket
        .on('data', (chunk) => {
          text += chunk;
        })
        .on('end', () => resolve(text))
        .on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 405/);
    assert.doesNotMatch(reply, /"a":1/);
  });

  it('does not follow a symlink out of its root', async () => {
    for (const url of ['/leak.txt', '/up/secret.txt']) {
      const response = await fetch(`${server.url}${url}`);
      assert.equal(response.status, 404, url);
      assert.doesNotMatch(await response.text(), /not for the web/);
    }
  });

  it('follows a symlink that stays inside its root', async () => {
    const response = await fetch(`${server.url}/alias.json`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '{"a":1}');
  });
});

describe('npm run demo (web/serve.js) on a busy port', () => {
  it('says so in one line, without a stack trace', async () => {
    const busy = net.createServer();
    await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
    const { port } = busy.address() as net.AddressInfo;
    try {
      const serve = new URL('../../web/serve.js', import.meta.url);
      await assert.rejects(
        promisify(execFile)(process.execPath, [fileURLToPath(serve), '--port', String(port)], { timeout: 30_000 }),
        (error: { code: number; stderr: string }) => {
          assert.equal(error.code, 1);
          assert.match(
            error.stderr,
            new RegExp(`^ssd-edge demo: cannot serve on 127\\.0\\.0\\.1:${port}: port ${port} is in use; pass --port`),
          );
          assert.doesNotMatch(error.stderr, /\n\s+at /, 'no stack trace');
          assert.equal(error.stderr.trim().split('\n').length, 1, error.stderr);
          return true;
        },
      );
    } finally {
      busy.close();
    }
  });
});
