/**
 * A stand-in for `data.crypto` built on node:crypto, for unit tests of pure logic (record codec,
 * filter translation) only. Every test that touches Chroma uses the real data layer's crypto.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { Crypto } from '../../src/crypto.js';
import { AicoDataError } from '../../src/errors.js';

export function fakeCrypto(): Crypto {
  const key = randomBytes(32);
  const bind = (purpose: string, aad?: Uint8Array) => Buffer.concat([Buffer.from(`${purpose}\0`), Buffer.from(aad ?? new Uint8Array())]);
  return {
    seal(purpose, plaintext, aad) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(bind(purpose, aad));
      const ct = Buffer.concat([c.update(plaintext), c.final()]);
      return Buffer.concat([iv, ct, c.getAuthTag()]);
    },
    open(purpose, sealed, aad) {
      const b = Buffer.from(sealed);
      if (b.length < 28) throw new AicoDataError('CORRUPT', 'too short');
      try {
        const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
        d.setAAD(bind(purpose, aad));
        d.setAuthTag(b.subarray(b.length - 16));
        return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
      } catch {
        throw new AicoDataError('CORRUPT', 'does not open');
      }
    },
    hmac(purpose, data) {
      return createHmac('sha256', key).update(`${purpose}\0`).update(data).digest();
    },
  };
}
