import { AicoDataError } from '../errors.js';

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** Z85 (ZeroMQ RFC 32) of a 32-byte key, the form zeromq's CURVE options take. */
export function z85(data: Uint8Array): string {
  if (data.length % 4 !== 0) throw new AicoDataError('INVALID_ARGUMENT', 'z85 needs a multiple of 4 bytes');
  let out = '';
  for (let i = 0; i < data.length; i += 4) {
    let v = ((data[i]! << 24) >>> 0) + (data[i + 1]! << 16) + (data[i + 2]! << 8) + data[i + 3]!;
    const chunk: string[] = [];
    for (let j = 0; j < 5; j++) {
      chunk.unshift(Z85[v % 85]!);
      v = Math.floor(v / 85);
    }
    out += chunk.join('');
  }
  return out;
}
