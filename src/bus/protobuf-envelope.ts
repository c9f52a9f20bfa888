/**
 * The envelope as upstream AICO puts it on its bus: a protobuf `aico.core.AicoMessage`
 * (`proto/aico_core_envelope.proto`, code generated into `./gen` by `npm run gen:proto`).
 * A JSON payload travels as a `google.protobuf.Value` packed in `google.protobuf.Any`
 * (type URL `type.googleapis.com/google.protobuf.Value`); any other type URL, e.g. one of
 * AICO's own payload messages, arrives as an {@link AnyPayload} and is re-sent byte for byte.
 */
import { create, fromBinary, fromJson, toBinary, toJson, type JsonValue } from '@bufbuild/protobuf';
import { anyIs, anyPack, anyUnpack, AnySchema, timestampDate, timestampFromDate, ValueSchema, type Any, type Value } from '@bufbuild/protobuf/wkt';
import { AicoDataError } from '../errors.js';
import { checkEnvelope, malformed, MAX_ENVELOPE_BYTES, type BusEnvelope } from './envelope.js';
import { AicoMessageSchema, MessageMetadataSchema, type AicoMessage } from './gen/aico_core_envelope_pb.js';

/** The type URL of JSON payloads (`google.protobuf.Value`). */
export const JSON_VALUE_TYPE_URL = 'type.googleapis.com/google.protobuf.Value';

/**
 * A payload that is a protobuf message of a type this library does not know: its
 * `google.protobuf.Any` type URL and serialized bytes. Publish one to send such a message.
 */
export class AnyPayload {
  /** `typeUrl`: e.g. `type.googleapis.com/aico.conversation.Message`; `value`: the message's bytes. */
  constructor(
    readonly typeUrl: string,
    readonly value: Uint8Array,
  ) {
    if (typeof typeUrl !== 'string' || !/^[^\s/]+(\/[^\s/]+)*\/[A-Za-z_][\w.]*$/.test(typeUrl)) {
      throw new AicoDataError('INVALID_ARGUMENT', `not a google.protobuf.Any type URL: ${JSON.stringify(typeUrl)}`, { field: 'typeUrl' });
    }
    if (!(value instanceof Uint8Array)) throw new AicoDataError('INVALID_ARGUMENT', 'an Any payload value is bytes', { field: 'value' });
  }

  /** The JSON codec's form: type URL and base64 bytes. */
  toJSON(): { type_url: string; value: string } {
    return { type_url: this.typeUrl, value: Buffer.from(this.value).toString('base64') };
  }
}

function tooLarge(bytes: number): AicoDataError {
  return new AicoDataError('INVALID_ARGUMENT', `the message is ${bytes} bytes; at most ${MAX_ENVELOPE_BYTES} are sent`, { field: 'payload' });
}

/**
 * Serializes an envelope as an `AicoMessage`. `INVALID_ARGUMENT` when the payload is not
 * JSON-serializable (the same rule as the JSON codec: it goes through `JSON.stringify` first,
 * so `toJSON`, dropped `undefined` fields and the rest behave alike).
 */
export function encodeProtobufEnvelope(e: BusEnvelope): Buffer {
  let any: Any;
  if (e.payload instanceof AnyPayload) {
    any = create(AnySchema, { typeUrl: e.payload.typeUrl, value: e.payload.value });
  } else {
    let json: JsonValue;
    try {
      const text = JSON.stringify(e.payload);
      // `undefined` (or a function) is no JSON value: the JSON codec sends nothing either and its receiver drops that.
      json = text === undefined ? null : (JSON.parse(text) as JsonValue);
    } catch (err) {
      throw new AicoDataError('INVALID_ARGUMENT', `the payload cannot be serialized as JSON: ${(err as Error).message}`, { field: 'payload' });
    }
    any = anyPack(ValueSchema, fromJson(ValueSchema, json));
  }
  const m = e.metadata;
  const msg = create(AicoMessageSchema, {
    metadata: create(MessageMetadataSchema, {
      messageId: m.message_id,
      timestamp: timestampFromDate(new Date(m.timestamp)),
      source: m.source,
      messageType: m.message_type,
      version: m.version,
      attributes: { ...m.attributes },
    }),
    payload: { case: 'anyPayload', value: any },
  });
  const bytes = toBinary(AicoMessageSchema, msg);
  if (bytes.length > MAX_ENVELOPE_BYTES) throw tooLarge(bytes.length);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Parses an `AicoMessage` frame and applies the same checks as the JSON codec against the topic
 * frame. `MALFORMED_MESSAGE` for bytes that are no `AicoMessage` or not a well-formed envelope.
 */
export function decodeProtobufEnvelope(topicFrame: string, data: Uint8Array): BusEnvelope {
  if (data.length > MAX_ENVELOPE_BYTES) throw malformed(`${data.length} bytes is over the limit`);
  let msg: AicoMessage;
  try {
    msg = fromBinary(AicoMessageSchema, data, { readUnknownFields: false });
  } catch {
    throw malformed('not a protobuf AicoMessage');
  }
  const m = msg.metadata;
  if (m === undefined) throw malformed('no metadata');
  if (msg.payload.case !== 'anyPayload') throw malformed('no payload');
  const any = msg.payload.value;
  let payload: unknown;
  if (anyIs(any, ValueSchema)) {
    let value: Value | undefined;
    try {
      value = anyUnpack(any, ValueSchema);
    } catch {
      throw malformed('any_payload is not a google.protobuf.Value');
    }
    payload = value === undefined ? null : toJson(ValueSchema, value);
  } else if (any.typeUrl === '') throw malformed('any_payload has no type URL');
  else payload = new AnyPayload(any.typeUrl, any.value);
  let timestamp = '';
  if (m.timestamp !== undefined) {
    const d = timestampDate(m.timestamp);
    if (!Number.isNaN(d.getTime())) timestamp = d.toISOString();
  }
  return checkEnvelope(topicFrame, {
    metadata: {
      message_id: m.messageId,
      timestamp,
      source: m.source,
      message_type: m.messageType,
      version: m.version,
      attributes: { ...m.attributes },
    },
    payload,
  });
}
