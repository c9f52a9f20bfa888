/**
 * How a bus serializes its envelopes: `json` (aico-data's format so far, the default) or
 * `protobuf` (upstream AICO's `AicoMessage`, what its Python modules read and write). All
 * clients of one bus must use the same codec: a frame of the other is dropped as malformed.
 */
import { invalidArgument } from '../errors.js';
import { decodeEnvelope, encodeEnvelope, type BusEnvelope } from './envelope.js';
import { decodeProtobufEnvelope, encodeProtobufEnvelope } from './protobuf-envelope.js';

/** The envelope serializations a bus can use. */
export type EnvelopeCodecName = 'json' | 'protobuf';

/** One envelope serialization. */
export interface EnvelopeCodec {
  readonly name: EnvelopeCodecName;
  /** `INVALID_ARGUMENT` for a payload the codec cannot carry or a message over the size limit. */
  encode(envelope: BusEnvelope): Buffer;
  /** `MALFORMED_MESSAGE` unless `data` is a well-formed envelope of `topicFrame`. */
  decode(topicFrame: string, data: Uint8Array): BusEnvelope;
}

const CODECS: Readonly<Record<EnvelopeCodecName, EnvelopeCodec>> = {
  json: { name: 'json', encode: encodeEnvelope, decode: decodeEnvelope },
  protobuf: { name: 'protobuf', encode: encodeProtobufEnvelope, decode: decodeProtobufEnvelope },
};

/** The codec of this name (default `json`); `INVALID_ARGUMENT` for another name. */
export function envelopeCodec(name: unknown = 'json'): EnvelopeCodec {
  if (name !== 'json' && name !== 'protobuf') throw invalidArgument(`codec must be "json" or "protobuf", got ${JSON.stringify(name)}`, { field: 'codec' });
  return CODECS[name];
}
