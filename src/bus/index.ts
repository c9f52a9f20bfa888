/**
 * The message bus: AICO envelopes (JSON or upstream's protobuf) and topics, an in-process bus
 * (the default), the ZeroMQ adapter with a small broker and the NATS adapter.
 */
export type { MessageBus, MessageHandler, RequestHandler, Subscription, PublishOptions, RequestOptions, BusStats, BusLogger } from './message-bus.js';
export type { BusOptions } from './base-bus.js';
export {
  createEnvelope,
  encodeEnvelope,
  decodeEnvelope,
  correlationIdOf,
  ENVELOPE_VERSION,
  MAX_ENVELOPE_BYTES,
  type BusEnvelope,
  type EnvelopeMetadata,
  type EnvelopeInit,
} from './envelope.js';
export { envelopeCodec, type EnvelopeCodec, type EnvelopeCodecName } from './codec.js';
export { AnyPayload, encodeProtobufEnvelope, decodeProtobufEnvelope, JSON_VALUE_TYPE_URL } from './protobuf-envelope.js';
export { topic, isTopic, parseTopic, requireTopic, responseTopicOf, compilePattern, type TopicParts, type TopicPattern } from './topics.js';
export { InProcessBus, InProcessHub, type InProcessBusOptions } from './in-process-bus.js';
export { ZmqBus, connectZmqBus, type ZmqBusOptions } from './zmq-bus.js';
export { NatsBus, connectNatsBus, type NatsBusOptions, type NatsConnectionState, type NatsConsumeOptions } from './nats-bus.js';
export { generateNatsCredentials, deriveNatsCredentials, natsServerAuthorization, type NatsCredentials } from './nats-credentials.js';
export { startZmqBroker, type ZmqBroker, type ZmqBrokerOptions, type ZmqBrokerEndpoints } from './zmq-broker.js';
export { generateBusKeyPair, deriveBusKeys, busKeyPairFromSecret, type BusKey, type BusKeyPair, type BusKeys } from './curve.js';
